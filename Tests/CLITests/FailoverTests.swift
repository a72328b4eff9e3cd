import Foundation
import Postgres
import Testing

/// `liaisond` on a primary with a synchronous standby (docs/OPERATIONS.md, "High availability"):
/// two private clusters on this machine, the standby made with `pg_basebackup -R`, the daemon on
/// a multi-host URL with `target_session_attrs=read-write`.
@Suite(.serialized)
struct FailoverTests {
    private static let account = "ohchr"
    private static let topic = "hq.ohchr.failover"

    /// What the publishers got, shared by their threads (under the lock).
    private final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var acknowledged: [Int64: String] = [:]
        private var unknown: [String] = []
        private var notStored: [String] = []
        private var closed = 0
        private var stopping = false

        func record(_ payload: String, _ reply: ProcessClient.Reply) {
            self.lock.withLock {
                switch reply {
                case .published(let seq, _): self.acknowledged[seq] = payload
                case .error(503, let text) where text.contains("outcome unknown"): self.unknown.append(payload)
                default: self.notStored.append(payload)
                }
            }
        }

        func connectionClosed() { self.lock.withLock { self.closed += 1 } }
        func stop() { self.lock.withLock { self.stopping = true } }
        var shouldStop: Bool { self.lock.withLock { self.stopping } }
        var acknowledgedCount: Int { self.lock.withLock { self.acknowledged.count } }
        var snapshot: (acknowledged: [Int64: String], unknown: [String], notStored: [String], closed: Int) {
            self.lock.withLock { (self.acknowledged, self.unknown, self.notStored, self.closed) }
        }
    }

    /// The primary with its synchronous standby, the accounts imported and a token issued.
    private static func pair() async throws -> (
        primary: PrivateCluster, standby: PrivateCluster, url: String, token: String
    ) {
        let primary = try await PrivateCluster.start()
        do {
            let single = try primary.createMigratedDatabase("liaison")
            let environment = ["LIAISON_DATABASE_URL": single]
            let network = CLI.packageRoot.appendingPathComponent("config/network.json").path
            let imported = try await CLI.run(["account", "import", network], environment: environment)
            try #require(imported.status == 0, "\(imported)")
            let issued = try await CLI.run(["token", "issue", Self.account], environment: environment)
            let token = try #require(issued.lines.first, "\(issued)")
            let standby = try await primary.startSynchronousStandby()
            let url =
                "postgresql://liaison@127.0.0.1:\(primary.port),127.0.0.1:\(standby.port)/liaison"
                + "?target_session_attrs=read-write"
            return (primary, standby, url, token)
        } catch {
            primary.stop()
            throw error
        }
    }

    private static func client(_ daemon: Daemon, token: String) async throws -> ProcessClient {
        try await ProcessClient.onThread {
            let client = try ProcessClient(port: daemon.port)
            try client.authenticate(account: Self.account, token: token)
            return client
        }
    }

    /// Publishes rounds of 100 (16 in flight) until told to stop, recording every reply.
    private static func publisher(_ number: Int, _ client: ProcessClient, _ tally: Tally) async throws {
        try await ProcessClient.onThread {
            var round = 0
            while !tally.shouldStop {
                let prefix = "p\(number)-r\(round)-"
                let run = client.publish(count: 100, window: 16, idleTimeout: .seconds(60)) { index in
                    ProcessClient.Outgoing(topic: Self.topic, payload: Array("\(prefix)\(index)".utf8))
                }
                for (index, reply) in run.replies.enumerated() { tally.record("\(prefix)\(index)", reply) }
                guard run.ending == .complete else {
                    tally.connectionClosed()
                    return
                }
                round += 1
            }
        }
    }

    @Test func everyAcknowledgedMessageSurvivesTheFailover() async throws {
        let (primary, standby, url, token) = try await Self.pair()
        defer {
            primary.stop()
            standby.stop()
        }
        let daemon = try await Daemon(databaseURL: url)
        defer { Task { await daemon.stop() } }

        // A durable consumer that starts at the beginning, then goes away until after the failover.
        let consumer = try await Self.client(daemon, token: token)
        let bound = try await ProcessClient.onThread {
            try consumer.command("SUB d \(Self.topic) from=all durable=failover")
        }
        #expect(bound == "OK SUB d")
        _ = try await ProcessClient.onThread { try consumer.command("QUIT") }

        let tally = Tally()
        var publishers: [Task<Void, any Error>] = []
        for number in 0..<4 {
            let client = try await Self.client(daemon, token: token)
            publishers.append(Task { try await Self.publisher(number, client, tally) })
        }
        try await Polling.until("300 acknowledged before the failover", within: .seconds(30)) {
            tally.acknowledgedCount >= 300
        }
        try await primary.crash()
        try await Task.sleep(for: .seconds(1))
        try await standby.promote()
        let atPromotion = tally.acknowledgedCount
        try await Polling.until("300 more acknowledged after the promotion", within: .seconds(45)) {
            tally.acknowledgedCount >= atPromotion + 300
        }
        tally.stop()
        for publisher in publishers { try await publisher.value }
        let (acknowledged, unknown, notStored, closed) = tally.snapshot
        #expect(closed == 0, "a publisher's connection closed during the failover")

        // Every acknowledged message is in the new primary's log, under the seq it was given.
        let newPrimary = try Connection("postgresql://liaison@127.0.0.1:\(standby.port)/liaison")
        defer { newPrimary.close() }
        let rows = try newPrimary.query(
            "SELECT seq, convert_from(payload, 'UTF8') FROM messages WHERE topic = $1",
            Self.topic
        )
        var stored: [Int64: String] = [:]
        for row in 0..<rows.rowCount {
            stored[try rows.decode(Int64.self, row: row, column: 0)] = try rows.decode(String.self, row: row, column: 1)
        }
        let lost = acknowledged.filter { stored[$0.key] != $0.value }
        #expect(
            lost.isEmpty,
            "\(lost.count) of \(acknowledged.count) acknowledged messages are not in the new primary's log"
        )
        let storedPayloads = Set(stored.values)
        let wronglyRefused = notStored.filter { storedPayloads.contains($0) }
        #expect(wronglyRefused.isEmpty, "answered 'not stored' but stored: \(wronglyRefused)")
        let unknownStored = unknown.filter { storedPayloads.contains($0) }.count
        print(
            "FailoverTests: \(acknowledged.count) acknowledged (\(atPromotion) before the promotion), all stored;"
                + " \(unknown.count) answered 'outcome unknown' (\(unknownStored) of them stored),"
                + " \(notStored.count) answered otherwise (ERR 503 not stored, or refused; none stored)"
        )

        // The durable consumer resumes on the new primary and gets every acknowledged message.
        let resumed = try await Self.client(daemon, token: token)
        let expected = Set(acknowledged.keys)
        let delivered = try await ProcessClient.onThread { () -> Set<Int64> in
            guard try resumed.command("SUB d \(Self.topic) durable=failover") == "OK SUB d" else { return [] }
            var seen: Set<Int64> = []
            while !expected.isSubset(of: seen),
                case .message(let delivery)? = try resumed.nextFrame(timeout: .seconds(15))
            {
                seen.insert(delivery.seq)
            }
            return seen
        }
        #expect(
            expected.isSubset(of: delivered),
            "\(expected.subtracting(delivered).count) acknowledged messages not delivered on resume"
        )
    }

    @Test func aMissingSynchronousStandbyTurnsPublishesInto503s() async throws {
        let (primary, standby, url, token) = try await Self.pair()
        defer {
            primary.stop()
            standby.stop()
        }
        let daemon = try await Daemon(databaseURL: url, settings: ["LIAISON_WRITER_PUBLISH_TIMEOUT_MS": "1000"])
        defer { Task { await daemon.stop() } }
        let client = try await Self.client(daemon, token: token)
        let before = try await ProcessClient.onThread { try client.command("PUB \(Self.topic) 6\nbefore") }
        #expect(before.hasPrefix("OK PUB "), "\(before)")

        try await standby.crash()
        let stalled = try await ProcessClient.onThread { try client.command("PUB \(Self.topic) 7\nstalled") }
        #expect(stalled.hasPrefix("ERR 503") && stalled.contains("outcome unknown"), "\(stalled)")
        #expect(try await ProcessClient.onThread { try client.command("PING") } == "PONG")
    }
}
