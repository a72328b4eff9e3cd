import Foundation
import Testing

/// `liaisonctl status` over two real daemons on one database (docs/CLI.md, "Status"): each
/// durable consumer is listed once, though every daemon reports the lag of the database's
/// durables. A cluster of its own, so `liaison_nodes` holds only these two daemons.
@Suite(.serialized)
struct StatusCommandTests {
    private static let account = "ohchr"
    private static let topic = "hq.ohchr.status"
    private static let durable = "status-lag"
    private static let count = 5

    @Test(.timeLimit(.minutes(3)))
    func aDurableReportedByTwoDaemonsIsListedOnce() async throws {
        let cluster = try await PrivateCluster.start()
        defer { cluster.stop() }
        let (url, token) = try await cluster.networkDatabase(tokenFor: Self.account)
        let environment = ["LIAISON_DATABASE_URL": url]
        let settings = [
            "LIAISON_METRICS_LISTEN": "127.0.0.1:0", "LIAISON_METRICS_HEARTBEAT_MS": "500",
            "LIAISON_METRICS_LAG_INTERVAL_MS": "200",
        ]
        let a = try await Daemon(databaseURL: url, settings: settings)
        let b = try await Daemon(databaseURL: url, settings: settings)
        let port = a.port

        // The durable is created, left, and falls behind by `count` messages.
        try await ProcessClient.onThread {
            let consumer = try ProcessClient(port: port)
            try consumer.authenticate(account: Self.account, token: token)
            let bound = try consumer.command("SUB d \(Self.topic) durable=\(Self.durable)")
            guard bound == "OK SUB d" else { throw ProcessClient.Failure(description: "SUB: \(bound)") }
        }
        let replies = try await ProcessClient.onThread {
            let publisher = try ProcessClient(port: port)
            try publisher.authenticate(account: Self.account, token: token)
            return try (0..<Self.count).map { index in
                try publisher.send(ProcessClient.Outgoing(topic: Self.topic, payload: Array("r\(index)".utf8)).frame)
                guard case .line(let line)? = try publisher.nextFrame(timeout: .seconds(20)) else {
                    throw ProcessClient.Failure(description: "no reply to PUB \(index)")
                }
                return line
            }
        }
        try #require(replies.allSatisfy { $0.hasPrefix("OK PUB ") }, "\(replies)")

        // Both daemons report the durable's lag…
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let json = try await CLI.run(["status", "--json"], environment: environment)
            let reports = json.lines.filter { $0.contains("\"consumer\":\"\(Self.durable)\"") }
            if json.status == 0, json.lines.count == 2, reports.count == 2,
                reports.allSatisfy({
                    $0.contains("\"lag_seqs\":\(Self.count)")
                })
            {
                break
            }
            try #require(ContinuousClock.now < deadline, "both daemons never reported the lag: \(json)")
            try await Task.sleep(for: .milliseconds(200))
        }
        // …and the table lists it once.
        let text = try await CLI.run(["status"], environment: environment)
        #expect(text.status == 0, "\(text)")
        let rows = text.lines.filter { $0.contains(" \(Self.durable) ") }
        #expect(rows.count == 1, "\(text)")
        #expect(rows.first?.split(separator: " ") == ["ohchr", "status-lag", "\(Self.count)", "0"], "\(text)")
        for daemon in [a, b] { await daemon.stop() }
    }
}

extension PrivateCluster {
    /// A migrated database `liaison` holding the accounts of `config/network.json`, and a token
    /// issued for `account`.
    ///
    /// - Returns: The database URL and the token.
    func networkDatabase(tokenFor account: String) async throws -> (url: String, token: String) {
        let url = try self.createMigratedDatabase("liaison")
        let environment = ["LIAISON_DATABASE_URL": url]
        let network = CLI.packageRoot.appendingPathComponent("config/network.json").path
        let imported = try await CLI.run(["account", "import", network], environment: environment)
        try #require(imported.status == 0, "\(imported)")
        let issued = try await CLI.run(["token", "issue", account], environment: environment)
        return (url, try #require(issued.lines.first, "\(issued)"))
    }
}
