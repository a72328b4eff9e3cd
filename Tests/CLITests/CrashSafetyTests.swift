import Foundation
import Postgres
import Testing

/// `kill -9` of the real `liaisond` process while clients publish and consume.
///
/// invariant 1 of docs/ARCHITECTURE.md (ack after commit) seen from outside: whatever the daemon acknowledged
/// before it died is in the log, byte for byte; publishes that got no reply may or may not be
/// there; an idempotent re-send never stores a second copy; a durable consumer loses nothing.
@Suite(.cliDatabase, .serialized)
struct CrashSafetyTests {
    /// A field office (default rules: it publishes under `field.mm.>`).
    private static let publisherAccount = "unhcr-mm-sittwe"
    /// An entity (default rules: it may subscribe to `field.>`).
    private static let subscriberAccount = "ohchr"
    private static let topics = [
        "field.mm.sittwe.early-warning", "field.mm.sittwe.report", "field.mm.yangon.early-warning",
        "field.mm.yangon.report",
    ]
    /// The durable consumer's pattern: half of ``topics``.
    private static let durablePattern = "field.mm.*.early-warning"

    /// PUB number `index` of one publisher in one cycle: unique, re-creatable, binary payload;
    /// every even one carries `id=`.
    private static func outgoing(cycle: Int, publisher: Int, index: Int) -> ProcessClient.Outgoing {
        var payload = Array("cycle \(cycle) publisher \(publisher) #\(index) ".utf8) + [0, 13, 10, 0xFF]
        payload += [UInt8](repeating: UInt8(ascii: "a") + UInt8(index % 26), count: index % 300)
        var message = ProcessClient.Outgoing(topic: Self.topics[index % Self.topics.count], payload: payload)
        if index % 2 == 0 {
            message.headers = [.init(key: "id", value: "crash-c\(cycle)-p\(publisher)-\(index)")]
        }
        return message
    }

    @Test func acknowledgedPublishesSurviveKillNineAndIdsAreNeverStoredTwice() async throws {
        let url = try CLIDatabase.currentURL()
        let token = try #require(try await Daemon.issueTokens(for: [Self.publisherAccount])[Self.publisherAccount])
        var daemon = try await Daemon(databaseURL: url)
        for cycle in 0..<3 {
            let (runs, delay) = try await Self.publishUntilKilled(daemon, publishers: 4, cycle: cycle, token: token)
            daemon = try await daemon.restarted()

            // Every acknowledged publish is stored with its exact topic, account, payload and id.
            let acked = Self.acknowledged(runs, cycle: cycle)
            try #require(!acked.isEmpty, "cycle \(cycle): nothing was acknowledged in \(delay) ms")
            let rows = try Self.rows(seqs: Array(acked.keys), url: url)
            var lost: [Int64] = []
            var altered: [Int64] = []
            for (seq, message) in acked.sorted(by: { $0.key < $1.key }) {
                guard let row = rows[seq] else {
                    lost.append(seq)
                    continue
                }
                let sent = Row(
                    topic: message.topic,
                    account: Self.publisherAccount,
                    payload: message.payload,
                    id: message.headers.first?.value
                )
                if row != sent { altered.append(seq) }
            }
            #expect(
                lost.isEmpty,
                "cycle \(cycle), kill after \(delay) ms: acknowledged but not stored: \(lost.prefix(20))"
            )
            #expect(
                altered.isEmpty,
                "cycle \(cycle): stored differently from what was acknowledged: \(altered.prefix(20))"
            )

            // Re-sending with the same id= what got no reply (and a few that did) stores nothing twice.
            try await Self.resend(runs, cycle: cycle, port: daemon.port, token: token, url: url)
        }
        #expect(try Self.idsStoredMoreThanOnce(url).isEmpty)
        await daemon.stop()
    }

    @Test func durableConsumerResumesAcrossKillNineWithoutLosingAnAcknowledgedPublish() async throws {
        let url = try CLIDatabase.currentURL()
        let tokens = try await Daemon.issueTokens(for: [Self.publisherAccount, Self.subscriberAccount])
        let publisherToken = try #require(tokens[Self.publisherAccount])
        let subscriberToken = try #require(tokens[Self.subscriberAccount])
        let subscribe = "SUB s \(Self.durablePattern) durable=d1 ack=explicit"
        var daemon = try await Daemon(databaseURL: url)

        // Before the crash: a consumer that acknowledges everything, publishers, then kill -9.
        let first = try await Self.subscribe(port: daemon.port, token: subscriberToken, line: subscribe)
        async let consumedBefore = ProcessClient.onThread { try Self.consume(first, sid: "s") }
        let (runs, delay) = try await Self.publishUntilKilled(daemon, publishers: 2, cycle: 100, token: publisherToken)
        let before = try await consumedBefore
        daemon = try await daemon.restarted()

        // After the restart: more publishes while nobody consumes, then the consumer comes back.
        var acked = Self.acknowledged(runs, cycle: 100)
        let port = daemon.port
        let later = try await ProcessClient.onThread {
            let client = try ProcessClient(port: port)
            try client.authenticate(account: Self.publisherAccount, token: publisherToken)
            return client.publish(count: 40, window: 40) { Self.outgoing(cycle: 101, publisher: 0, index: $0 * 2) }
        }
        try #require(later.ending == .complete, "publishing after the restart: \(later.ending)")
        for (index, reply) in later.replies.enumerated() {
            guard case .published(let seq, false) = reply else { throw DaemonFailure(description: "\(reply)") }
            acked[seq] = Self.outgoing(cycle: 101, publisher: 0, index: index * 2)
        }
        let expected = Set(acked.filter { $0.value.topic.hasSuffix(".early-warning") }.keys)
        let seenBefore = Set(before.deliveries.map(\.seq))
        let second = try await Self.subscribe(port: port, token: subscriberToken, line: subscribe)
        let after = try await ProcessClient.onThread {
            try Self.consume(second, sid: "s", until: expected.subtracting(seenBefore), within: .seconds(15))
        }
        await daemon.stop()

        #expect(!before.deliveries.isEmpty, "the consumer got nothing in the \(delay) ms before the kill")
        let missing = expected.subtracting(seenBefore).subtracting(after.deliveries.map(\.seq))
        #expect(missing.isEmpty, "acknowledged publishes never delivered: \(missing.sorted().prefix(20))")
        let firstUnacked = try #require(expected.subtracting(before.confirmed).min())
        let resumedAt = try #require(after.deliveries.first?.seq, "nothing delivered after the restart")
        #expect(resumedAt <= firstUnacked, "resumed at \(resumedAt), past the first unacknowledged seq \(firstUnacked)")
        let wrong = (before.deliveries + after.deliveries).filter { delivery in
            guard let message = acked[delivery.seq] else { return !delivery.topic.hasSuffix(".early-warning") }
            return delivery.topic != message.topic || delivery.payload != message.payload
        }
        #expect(wrong.isEmpty, "deliveries off the pattern or unlike what was published: \(wrong.prefix(5).map(\.seq))")
        #expect(before.unexpected.isEmpty && after.unexpected.isEmpty, "\(before.unexpected + after.unexpected)")
    }

    // MARK: - Clients

    /// Runs `publishers` pipelining publishers until a random 100–500 ms after the first commit,
    /// then kills the daemon with SIGKILL.
    ///
    /// - Returns: Each publisher's run, and the delay in milliseconds.
    private static func publishUntilKilled(
        _ daemon: Daemon,
        publishers: Int,
        cycle: Int,
        token: String
    ) async throws -> (runs: [Int: ProcessClient.PublishRun], delay: Int) {
        let port = daemon.port
        let headBefore = try Self.headSeq(daemon.databaseURL)
        let delay = Int.random(in: 100...500)
        let runs = try await withThrowingTaskGroup(of: (Int, ProcessClient.PublishRun)?.self) { group in
            for publisher in 0..<publishers {
                group.addTask {
                    try await ProcessClient.onThread {
                        let client = try ProcessClient(port: port)
                        try client.authenticate(account: Self.publisherAccount, token: token)
                        let run = client.publish(count: 10_000_000, window: 256, idleTimeout: .seconds(20)) {
                            Self.outgoing(cycle: cycle, publisher: publisher, index: $0)
                        }
                        return (publisher, run)
                    }
                }
            }
            group.addTask {
                try await Self.waitForCommits(after: headBefore, url: daemon.databaseURL)
                try await Task.sleep(for: .milliseconds(delay))
                await daemon.crash()
                return nil
            }
            var runs: [Int: ProcessClient.PublishRun] = [:]
            for try await case let (publisher, run)? in group { runs[publisher] = run }
            return runs
        }
        for (publisher, run) in runs.sorted(by: { $0.key < $1.key }) {
            #expect(run.ending == .closed, "cycle \(cycle) publisher \(publisher): \(run.ending)")
        }
        return (runs, delay)
    }

    /// The acknowledged publishes of a run, by seq; any other reply fails the test.
    private static func acknowledged(
        _ runs: [Int: ProcessClient.PublishRun],
        cycle: Int
    ) -> [Int64: ProcessClient.Outgoing] {
        var acked: [Int64: ProcessClient.Outgoing] = [:]
        var others: [String] = []
        for (publisher, run) in runs {
            for (index, reply) in run.replies.enumerated() {
                guard case .published(let seq, false) = reply else {
                    others.append("publisher \(publisher) PUB #\(index): \(reply)")
                    continue
                }
                acked[seq] = Self.outgoing(cycle: cycle, publisher: publisher, index: index)
            }
        }
        #expect(
            others.isEmpty,
            "cycle \(cycle): \(others.count) PUBs got another reply than OK PUB: \(others.prefix(5))"
        )
        return acked
    }

    /// What a consumer got: deliveries in arrival order, the seqs whose `ACK` was answered, and any
    /// line that is neither.
    private struct Consumed: Sendable {
        var deliveries: [ProcessClient.Delivery] = []
        var confirmed: Set<Int64> = []
        var unexpected: [String] = []
    }

    /// Connects, authenticates and subscribes with `line`.
    ///
    /// - Throws: ``ProcessClient/Failure`` unless the reply is `OK SUB s`.
    private static func subscribe(port: Int, token: String, line: String) async throws -> ProcessClient {
        try await ProcessClient.onThread {
            let client = try ProcessClient(port: port)
            try client.authenticate(account: Self.subscriberAccount, token: token)
            let reply = try client.command(line)
            guard reply == "OK SUB s" else {
                throw ProcessClient.Failure(description: "\(line) got \(reply) (durable consumers not available yet?)")
            }
            return client
        }
    }

    /// Reads and acknowledges every `MSG` until the connection closes, or, with `expected`, until
    /// all of those seqs arrived (or `within` passed).
    private static func consume(
        _ client: ProcessClient,
        sid: String,
        until expected: Set<Int64>? = nil,
        within limit: Duration = .seconds(60)
    ) throws -> Consumed {
        var consumed = Consumed()
        var outstanding = expected ?? []
        let deadline = ContinuousClock.now + limit
        while expected == nil || !outstanding.isEmpty {
            let left = deadline - ContinuousClock.now
            guard left > .zero, let frame = try? client.nextFrame(timeout: left) else { break }
            switch frame {
            case .message(let delivery):
                consumed.deliveries.append(delivery)
                outstanding.remove(delivery.seq)
                try? client.send(line: "ACK \(sid) \(delivery.seq)")
            case .line(let line):
                if line.hasPrefix("OK ACK "), let seq = Int64(line.dropFirst("OK ACK ".count)) {
                    consumed.confirmed.insert(seq)
                } else if line == "PING" {
                    try? client.send(line: "PONG")
                } else {
                    consumed.unexpected.append(line)
                }
            }
        }
        return consumed
    }

    /// Re-sends every unanswered PUB that has an `id`, plus the last few acknowledged ones, and
    /// checks that each id is stored exactly once, at the seq the re-send was answered with.
    private static func resend(
        _ runs: [Int: ProcessClient.PublishRun],
        cycle: Int,
        port: Int,
        token: String,
        url: String
    ) async throws {
        var messages: [ProcessClient.Outgoing] = []
        var firstSeqs: [Int64?] = []
        for (publisher, run) in runs {
            for index in run.replies.count..<run.sent where index % 2 == 0 {
                messages.append(Self.outgoing(cycle: cycle, publisher: publisher, index: index))
                firstSeqs.append(nil)
            }
            for (index, reply) in run.replies.enumerated().suffix(20) where index % 2 == 0 {
                guard case .published(let seq, _) = reply else { continue }
                messages.append(Self.outgoing(cycle: cycle, publisher: publisher, index: index))
                firstSeqs.append(seq)
            }
        }
        let batch = messages
        let run = try await ProcessClient.onThread {
            let client = try ProcessClient(port: port)
            try client.authenticate(account: Self.publisherAccount, token: token)
            return client.publish(count: batch.count, window: 256) { batch[$0] }
        }
        try #require(run.ending == .complete, "re-send after restart: \(run.ending), \(run.replies.count) replies")
        var answered: [String: Int64] = [:]
        var wrong: [String] = []
        for (index, reply) in run.replies.enumerated() {
            let id = messages[index].headers[0].value
            guard case .published(let seq, let duplicate) = reply else {
                wrong.append("\(id): \(reply)")
                continue
            }
            if let first = firstSeqs[index], !duplicate || seq != first {
                wrong.append("\(id) was acknowledged as \(first) before the crash, now \(reply)")
            }
            answered[id] = seq
        }
        let stored = try Self.seqsByID(Array(answered.keys), url: url)
        for (id, seq) in answered.sorted(by: { $0.value < $1.value }) where stored[id] != [seq] {
            wrong.append("\(id): answered \(seq) after the restart, stored at \(stored[id] ?? [])")
        }
        #expect(wrong.isEmpty, "cycle \(cycle), \(wrong.count) re-sends went wrong: \(wrong.prefix(5))")
    }

    // MARK: - Database checks

    private struct Row: Equatable {
        var topic: String
        var account: String
        var payload: [UInt8]
        var id: String?
    }

    private static func headSeq(_ url: String) throws -> Int64 {
        let connection = try Connection(url)
        defer { connection.close() }
        return try connection.query("SELECT coalesce(max(seq), 0) FROM messages").decode(Int64.self, row: 0, column: 0)
    }

    /// Waits (at most 20 s) until a message with seq above `seq` has committed.
    private static func waitForCommits(after seq: Int64, url: String) async throws {
        for _ in 0..<2000 {
            if try Self.headSeq(url) > seq { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw DaemonFailure(description: "no publish committed within 20 s")
    }

    private static func rows(seqs: [Int64], url: String) throws -> [Int64: Row] {
        let connection = try Connection(url)
        defer { connection.close() }
        let result = try connection.query(
            "SELECT seq, topic, account, payload, headers->>'id' FROM messages WHERE seq = ANY($1)",
            [seqs.postgresBind]
        )
        var rows: [Int64: Row] = [:]
        for row in 0..<result.rowCount {
            rows[try result.decode(Int64.self, row: row, column: 0)] = Row(
                topic: try result.decode(String.self, row: row, column: 1),
                account: try result.decode(String.self, row: row, column: 2),
                payload: try result.decode([UInt8].self, row: row, column: 3),
                id: try result.decode(String?.self, row: row, column: 4)
            )
        }
        return rows
    }

    /// The seqs stored under each of `ids`, ascending.
    private static func seqsByID(_ ids: [String], url: String) throws -> [String: [Int64]] {
        let connection = try Connection(url)
        defer { connection.close() }
        let result = try connection.query(
            "SELECT headers->>'id', seq FROM messages WHERE headers->>'id' = ANY($1) ORDER BY seq",
            [ids.postgresBind]
        )
        var seqs: [String: [Int64]] = [:]
        for row in 0..<result.rowCount {
            seqs[try result.decode(String.self, row: row, column: 0), default: []].append(
                try result.decode(Int64.self, row: row, column: 1)
            )
        }
        return seqs
    }

    /// Every `id` header that more than one stored message carries (idempotency broken).
    private static func idsStoredMoreThanOnce(_ url: String) throws -> [String] {
        let connection = try Connection(url)
        defer { connection.close() }
        let result = try connection.query(
            """
            SELECT headers->>'id' FROM messages WHERE headers ? 'id'
            GROUP BY account, headers->>'id' HAVING count(*) > 1
            """
        )
        return try (0..<result.rowCount).map { try result.decode(String.self, row: $0, column: 0) }
    }
}
