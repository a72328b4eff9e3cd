import Foundation
import Postgres
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The metrics endpoint of a real `liaisond` (docs/OPERATIONS.md, "Metrics"): its counters equal
/// what the test did, `/readyz` follows the database (frozen: 503, thawed: 200), `liaisonctl
/// status` finds the daemon through `liaison_nodes`. A cluster of its own, so freezing it stops
/// no other test's server.
@Suite(.serialized)
struct MetricsEndpointTests {
    private static let account = "ohchr"
    private static let topic = "hq.ohchr.metrics"
    /// A topic ohchr may not publish to (a field office's).
    private static let forbidden = "field.mm.sittwe.report"
    private static let count = 12

    @Test(.timeLimit(.minutes(3)))
    func countersMatchWhatClientsDidAndReadinessFollowsTheDatabase() async throws {
        let cluster = try await PrivateCluster.start()
        defer { cluster.stop() }
        let (url, token) = try await cluster.networkDatabase(tokenFor: Self.account)
        let environment = ["LIAISON_DATABASE_URL": url]
        let daemon = try await Daemon(
            databaseURL: url,
            settings: ["LIAISON_METRICS_LISTEN": "127.0.0.1:0", "LIAISON_METRICS_HEARTBEAT_MS": "500"]
        )
        // A failing test leaves the daemon to Daemon's deinit (SIGKILL).
        let metricsPort = try await Self.metricsPort(daemon)
        let port = daemon.port

        // What a user does: a subscriber, N publishes, a refused one, a failed AUTH, a SUB whose
        // id is in use.
        let count = Self.count
        let (subscriber, replies, refused, failedAuth, delivered, conflict) = try await ProcessClient.onThread {
            let subscriber = try ProcessClient(port: port)
            try subscriber.authenticate(account: Self.account, token: token)
            guard try subscriber.command("SUB s \(Self.topic)") == "OK SUB s" else {
                throw ProcessClient.Failure(description: "SUB refused")
            }
            let publisher = try ProcessClient(port: port)
            try publisher.authenticate(account: Self.account, token: token)
            var replies: [String] = []
            for index in 0..<count {
                let payload = Array("report \(index)".utf8)
                try publisher.send(ProcessClient.Outgoing(topic: Self.topic, payload: payload).frame)
                guard case .line(let line)? = try publisher.nextFrame(timeout: .seconds(20)) else {
                    throw ProcessClient.Failure(description: "no reply to PUB \(index)")
                }
                replies.append(line)
            }
            try publisher.send(ProcessClient.Outgoing(topic: Self.forbidden, payload: Array("x".utf8)).frame)
            guard case .line(let refused)? = try publisher.nextFrame(timeout: .seconds(20)) else {
                throw ProcessClient.Failure(description: "no reply to the forbidden PUB")
            }
            let stranger = try ProcessClient(port: port)
            let failedAuth = try stranger.command("AUTH \(Self.account) not-the-token")
            var delivered = 0
            while delivered < count, case .message? = try subscriber.nextFrame(timeout: .seconds(20)) {
                delivered += 1
            }
            let conflict = try subscriber.command("SUB s \(Self.topic)")
            return (subscriber, replies, refused, failedAuth, delivered, conflict)
        }
        #expect(replies.allSatisfy { $0.hasPrefix("OK PUB ") }, "\(replies)")
        #expect(refused.hasPrefix("ERR 403 "), "\(refused)")
        #expect(failedAuth.hasPrefix("ERR 401 "), "\(failedAuth)")
        #expect(delivered == count)
        #expect(conflict.hasPrefix("ERR 409 "), "\(conflict)")

        let scrape = try await Self.get(metricsPort, "/metrics")
        #expect(scrape.status == 200)
        #expect(scrape.head.contains("text/plain; version=0.0.4"))
        let metrics = scrape.body
        #expect(Self.value(metrics, "liaison_messages_published_total") == Double(count), "\(metrics)")
        #expect(Self.value(metrics, "liaison_messages_delivered_total") == Double(count))
        #expect(Self.value(metrics, "liaison_publishes_refused_total{code=\"403\"}") == 1)
        #expect(Self.value(metrics, "liaison_auth_failures_total") == 1)
        #expect(Self.value(metrics, "liaison_subscriptions_refused_total{code=\"409\"}") == 1, "\(metrics)")
        #expect(Self.value(metrics, "liaison_database_errors_total") == 0)
        #expect(Self.value(metrics, "liaison_connections_total") == 3)
        #expect(Self.value(metrics, "liaison_subscriptions") == 1)
        #expect(Self.value(metrics, "liaison_publish_batch_messages_sum") == Double(count))
        #expect((Self.value(metrics, "liaison_publish_commit_seconds_count") ?? 0) >= 1)
        #expect((Self.value(metrics, "liaison_received_bytes_total") ?? 0) > 0)
        #expect((Self.value(metrics, "liaison_sent_bytes_total") ?? 0) > 0)
        // The subscriber stayed connected while the endpoint was scraped (its subscription counted).
        withExtendedLifetime(subscriber) {}

        #expect(try await Self.get(metricsPort, "/healthz").status == 200)
        #expect(try await Self.get(metricsPort, "/readyz").status == 200)
        #expect(try await Self.get(metricsPort, "/nothing").status == 404)
        #expect(try await Self.get(metricsPort, "/metrics", method: "POST").status == 405)
        #expect(try await Self.raw(metricsPort, "this is not HTTP\r\n\r\n").status == 400)

        // Frozen database: not ready, with the reason; alive all the same.
        _ = try cluster.freeze()
        let frozen = try await Self.get(metricsPort, "/readyz")
        #expect(frozen.status == 503)
        #expect(frozen.body.contains("database: unreachable"), "\(frozen.body)")
        #expect(try await Self.get(metricsPort, "/healthz").status == 200)
        // An AUTH and a durable SUB wait for the frozen database until database.callTimeoutMs.
        let (lateAuth, durableSub) = try await ProcessClient.onThread {
            let late = try ProcessClient(port: port)
            let auth = try late.command("AUTH \(Self.account) \(token)", timeout: .seconds(60))
            let sub = try subscriber.command("SUB d hq.> durable=metrics-feed", timeout: .seconds(60))
            return (auth, sub)
        }
        #expect(lateAuth.hasPrefix("ERR 503 "), "\(lateAuth)")
        #expect(durableSub.hasPrefix("ERR 503 "), "\(durableSub)")
        cluster.thaw()
        try await Self.waitUntil("/readyz answers 200 after the database is back", within: .seconds(30)) {
            try await Self.get(metricsPort, "/readyz").status == 200
        }
        let afterFreeze = try await Self.get(metricsPort, "/metrics").body
        #expect(Self.value(afterFreeze, "liaison_subscriptions_refused_total{code=\"503\"}") == 1, "\(afterFreeze)")
        // The AUTH lookup and the consumer bind (no append failed: nothing was published).
        #expect(Self.value(afterFreeze, "liaison_database_errors_total") == 2, "\(afterFreeze)")

        // liaisonctl status finds the daemon through liaison_nodes, in text and JSON.
        try await Self.waitUntil("liaisonctl status shows the daemon up", within: .seconds(30)) {
            let text = try await CLI.run(["status"], environment: environment)
            return text.status == 0 && text.lines.contains { $0.hasPrefix("clitest ") && $0.contains(" up ") }
        }
        let json = try await CLI.run(["status", "--json"], environment: environment)
        try #require(json.status == 0, "\(json)")
        let line = try #require(json.lines.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["node"] as? String == "clitest")
        #expect(object["state"] as? String == "up")
        #expect(object["ready"] as? Bool == true)
        #expect(object["published"] as? Int == count)
        #expect(object["metrics"] as? String == "127.0.0.1:\(metricsPort)")
        let direct = try await CLI.run(["status", "--metrics-url", "http://127.0.0.1:\(metricsPort)"])
        #expect(direct.status == 0 && direct.lines.contains { $0.hasPrefix("clitest ") }, "\(direct)")
        await daemon.stop()
        let gone = try await CLI.run(["status"], environment: environment)
        #expect(gone.lines == ["no daemon registered in liaison_nodes"], "\(gone)")
        #expect(gone.status == 1, "a monitoring script sees no daemon as unhealthy: \(gone)")

        // A stopped endpoint is shown as unreachable, a crashed daemon's old row as stale.
        let stopped = try await CLI.run(["status", "--metrics-url", "http://127.0.0.1:\(metricsPort)"])
        #expect(stopped.status == 1 && stopped.lines.contains { $0.contains(" unreachable ") }, "\(stopped)")
        #expect(stopped.stderr.contains("1 of 1 daemons not healthy"), "\(stopped)")
        let database = try Connection(url)
        defer { database.close() }
        try database.query(
            """
            INSERT INTO liaison_nodes (node, host, listen_address, pid, version, started_at, heartbeat_at)
            VALUES ('crashed', 'h', '10.0.0.1:7420', 1, '0.1.0', now() - interval '2 hours', now() - interval '1 hour')
            """
        )
        let stale = try await CLI.run(["status"], environment: environment)
        #expect(stale.lines.contains { $0.hasPrefix("crashed ") && $0.contains(" stale ") }, "\(stale)")
        #expect(stale.lines.contains("crashed: heartbeat 1h 0m old: not running?"), "\(stale)")
        #expect(stale.status == 1, "\(stale)")
        #expect(stale.stderr.contains("daemons not healthy: crashed (stale)"), "\(stale)")
    }

    /// The sample value of a line `<series> <value>` in an exposition.
    static func value(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    /// The port of the log line `metrics.address=[IPv4]127.0.0.1/127.0.0.1:44095 … metrics endpoint bound`.
    static func metricsPort(_ daemon: Daemon) async throws -> Int {
        for _ in 0..<100 {
            for line in daemon.logText.split(separator: "\n") where line.hasSuffix("metrics endpoint bound") {
                if let field = line.split(separator: " ").first(where: { $0.hasPrefix("metrics.address=") }),
                    let colon = field.lastIndex(of: ":"), let port = Int(field[field.index(after: colon)...])
                {
                    return port
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DaemonFailure(description: "no metrics endpoint in the log:\n\(daemon.logText)")
    }

    private static func waitUntil(
        _ what: String,
        within limit: Duration,
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + limit
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                throw DaemonFailure(description: "not within \(limit): \(what)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    struct Answer {
        var status: Int
        var head: String
        var body: String
    }

    static func get(_ port: Int, _ path: String, method: String = "GET") async throws -> Answer {
        try await Self.raw(port, "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    }

    /// Sends `request` and reads the answer until the endpoint closes (it closes after each).
    private static func raw(_ port: Int, _ request: String) async throws -> Answer {
        let bytes = try await ProcessClient.onThread { try Self.exchange(port, Array(request.utf8)) }
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        let status = head.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return Answer(status: status, head: head, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    private static func exchange(_ port: Int, _ request: [UInt8]) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DaemonFailure(description: "socket(): errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw DaemonFailure(description: "connect to port \(port): errno \(errno)") }
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            answer += chunk[..<n]
        }
        return answer
    }
}
