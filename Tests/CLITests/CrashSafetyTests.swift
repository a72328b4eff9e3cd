import Foundation
import TestSupport
import Testing

/// `kill -9` of the real `liaisond` process at random points of sustained publishing, 20 times.
///
/// Invariants 1 and 8 of docs/ARCHITECTURE.md seen from outside: whatever the daemon acknowledged
/// before it died is in the log, byte for byte; publishes that got no reply may or may not be
/// there; an idempotent re-send never stores a second copy; a durable consumer's stored position
/// never passes what its client confirmed, and after the restart it is delivered everything it
/// had not confirmed (duplicates allowed, nothing lost). Half the cycles run the writer with two
/// batches in flight.
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
    private static let cycles = 20

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

    /// Each cycle: an `ack=explicit` durable (the two early-warning topics; it leaves every 13th
    /// seq unacknowledged until its redelivery) and an `ack=auto` durable (the two sittwe topics;
    /// cumulative `ACK` every 1–32 messages) consume while 2–4 connections pipeline PUBs; after a
    /// random 300–1500 ms of commits the daemon gets SIGKILL; its database is checked as the
    /// crash left it; it restarts on the same database and port, and the unanswered `id=` PUBs
    /// are re-sent. After the last cycle both consumers come back once more.
    @Test func acknowledgedPublishesAndDurableCursorsSurviveTwentyKillNines() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["LIAISON_TEST_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        print("CrashSafetyTests: seed \(seed) (LIAISON_TEST_SEED=\(seed) repeats the choices, not the timing)")
        var random = SeededGenerator(seed: seed)
        let url = try CLIDatabase.currentURL()
        let tokens = try await Daemon.issueTokens(for: [Self.publisherAccount, Self.subscriberAccount])
        let publisherToken = try #require(tokens[Self.publisherAccount])
        let subscriberToken = try #require(tokens[Self.subscriberAccount])
        var consumers = [
            CrashConsumer(sid: "e", name: "crash-explicit", pattern: "field.mm.*.early-warning", explicit: true),
            CrashConsumer(sid: "a", name: "crash-auto", pattern: "field.mm.sittwe.*", explicit: false),
        ]
        var resumeBounds: [Int64?] = [nil, nil]
        var published: [Int64: ProcessClient.Outgoing] = [:]
        let createdAt = try CrashLog.headSeq(url)
        var daemon = try await Daemon(databaseURL: url)

        for cycle in 0..<Self.cycles {
            let delay = Int.random(in: 300...1500, using: &random)
            let publishers = Int.random(in: 2...4, using: &random)
            let every = Int.random(in: 1...32, using: &random)
            let label = "cycle \(cycle) (seed \(seed), kill \(delay) ms after the first commit)"
            let running = daemon
            let publish = {
                try await Self.publishUntilKilled(
                    running,
                    publishers: publishers,
                    cycle: cycle,
                    token: publisherToken,
                    delay: delay
                )
            }
            let sessions = try await Self.consuming(
                consumers,
                port: daemon.port,
                token: subscriberToken,
                every: every,
                publish
            )
            // The database as the crash left it.
            for index in consumers.indices {
                Self.checkResumption(sessions.consumed[index], bound: resumeBounds[index], of: consumers[index], label)
                consumers[index].absorb(sessions.consumed[index])
                resumeBounds[index] = try Self.checkCursor(&consumers[index], createdAt: createdAt, url: url, label)
            }
            // Every other run keeps two batches in flight (`writer.inFlightBatches`), so the
            // pipelined writer is killed mid-commit too.
            daemon = try await daemon.restarted(changing: [
                "LIAISON_WRITER_IN_FLIGHT_BATCHES": cycle % 2 == 0 ? "2" : "1"
            ])

            let acked = Self.acknowledged(sessions.result, cycle: cycle)
            try #require(!acked.isEmpty, "\(label): nothing was acknowledged")
            try CrashLog.checkStored(acked, account: Self.publisherAccount, url: url, label)
            published.merge(acked) { first, _ in first }
            // Re-sending with the same id= what got no reply (and a few that did) stores nothing twice.
            let resent = try await Self.resend(
                sessions.result,
                cycle: cycle,
                port: daemon.port,
                token: publisherToken,
                url: url
            )
            published.merge(resent) { first, _ in first }
            for (index, consumer) in consumers.enumerated() {
                Self.checkDeliveries(sessions.consumed[index], of: consumer, published: published, label)
            }
            let unanswered = sessions.result.values.reduce(0) { $0 + $1.sent - $1.replies.count }
            let cursors = consumers.indices.map {
                "\(consumers[$0].name) got \(sessions.consumed[$0].deliveries.count),"
                    + " floor \(consumers[$0].checkedFloor)"
            }
            print(
                "CrashSafetyTests \(label), \(publishers) publishers: \(acked.count) acknowledged, \(unanswered)"
                    + " unanswered, \(resent.count) re-sent; \(cursors.joined(separator: "; "))"
            )
        }

        // The last restart: each consumer comes back and must get every stored message it matches
        // that it never got, and again every one it got but did not confirm.
        let head = try CrashLog.headSeq(url)
        var owed: [Set<Int64>] = []
        for consumer in consumers {
            let stored = try StoredCursor.matchingSeqs(consumer, above: createdAt, upTo: head, url: url)
            let unconfirmed = stored.filter {
                consumer.explicit ? !consumer.acksSent.contains($0) : $0 > consumer.highestAckSent
            }
            owed.append(Set(stored).subtracting(consumer.delivered).union(unconfirmed))
        }
        let drained = try await Self.consuming(
            consumers,
            port: daemon.port,
            token: subscriberToken,
            every: 16,
            until: owed
        ) {}
        await daemon.stop()
        for (index, consumer) in consumers.enumerated() {
            let session = drained.consumed[index]
            Self.checkResumption(session, bound: resumeBounds[index], of: consumer, "after the last kill")
            Self.checkDeliveries(session, of: consumer, published: published, "after the last kill")
            let missing = owed[index].subtracting(session.deliveries.map(\.seq))
            #expect(
                missing.isEmpty,
                "seed \(seed): \(consumer.name) never got these unconfirmed ones: \(missing.sorted().prefix(20))"
            )
        }
        #expect(try CrashLog.idsStoredMoreThanOnce(url).isEmpty, "seed \(seed)")
        #expect(try CrashLog.count("SELECT count(*) FROM dead_letters", url: url) == 0, "nothing may be dead-lettered")
    }

    // MARK: - Consumers

    /// Both consumers subscribe and consume on threads of their own while `body` runs, and until
    /// their connections close (or, with `until`, until they got those seqs).
    ///
    /// - Returns: What `body` returned, and each consumer's session in the order of `consumers`.
    private static func consuming<T: Sendable>(
        _ consumers: [CrashConsumer],
        port: Int,
        token: String,
        every: Int,
        until expected: [Set<Int64>]? = nil,
        _ body: () async throws -> T
    ) async throws -> (result: T, consumed: [CrashConsumerSession]) {
        var clients: [ProcessClient] = []
        for consumer in consumers {
            clients.append(
                try await ProcessClient.onThread {
                    try consumer.connect(port: port, account: Self.subscriberAccount, token: token)
                }
            )
        }
        let readers = clients.enumerated().map { index, client in
            Task {
                try await ProcessClient.onThread {
                    consumers[index].consume(client, every: every, until: expected?[index], within: .seconds(30))
                }
            }
        }
        let result = try await body()
        var consumed: [CrashConsumerSession] = []
        for reader in readers { consumed.append(try await reader.value) }
        return (result, consumed)
    }

    /// The first delivery of a session after a restart must be at or below `bound`, the first
    /// matching seq the consumer had not confirmed when the daemon died.
    private static func checkResumption(
        _ session: CrashConsumerSession,
        bound: Int64?,
        of consumer: CrashConsumer,
        _ label: String
    ) {
        #expect(session.unexpected.isEmpty, "\(label): \(consumer.name) got \(session.unexpected.prefix(5))")
        guard let bound else { return }
        guard let first = session.deliveries.first?.seq else {
            Issue.record("\(label): \(consumer.name) got nothing after the restart; seq \(bound) was unconfirmed")
            return
        }
        #expect(first <= bound, "\(label): \(consumer.name) resumed at \(first), past unconfirmed \(bound)")
    }

    /// Checks a consumer's stored row as a crash left it against what its client confirmed.
    ///
    /// - Returns: The first matching stored seq the client had not confirmed (where the next
    ///   session must start at the latest), or nil when it confirmed everything.
    private static func checkCursor(
        _ consumer: inout CrashConsumer,
        createdAt: Int64,
        url: String,
        _ label: String
    ) throws -> Int64? {
        let stored = try #require(
            try StoredCursor.read(account: Self.subscriberAccount, name: consumer.name, url: url),
            "\(label): no durable_cursors row for \(consumer.name)"
        )
        let name = consumer.name
        #expect(stored.floor >= consumer.checkedFloor, "\(label): \(name)'s floor went back to \(stored.floor)")
        #expect(
            stored.floor <= stored.delivered,
            "\(label): \(name): floor \(stored.floor) > delivered \(stored.delivered)"
        )
        #expect(
            stored.floor <= max(consumer.highestAckSent, createdAt),
            "\(label): \(name)'s floor \(stored.floor) is past its highest ACK, \(consumer.highestAckSent)"
        )
        let head = try CrashLog.headSeq(url)
        if consumer.explicit {
            // Settled (at or below the floor, or delivered and not pending) means acknowledged.
            let low = max(consumer.checkedFloor, createdAt)
            let settled = try StoredCursor.matchingSeqs(consumer, above: low, upTo: stored.delivered, url: url)
                .filter { $0 <= stored.floor || !stored.pending.contains($0) }
            let unacked = settled.filter { !consumer.acksSent.contains($0) }
            #expect(unacked.isEmpty, "\(label): \(name) has settled seqs it never acknowledged: \(unacked.prefix(20))")
        }
        consumer.checkedFloor = stored.floor
        let low = consumer.explicit ? stored.floor : max(stored.floor, consumer.highestAckSent)
        let unconfirmed = try StoredCursor.matchingSeqs(consumer, above: low, upTo: head, url: url)
        return unconfirmed.first { !consumer.explicit || !consumer.acksSent.contains($0) }
    }

    /// Every delivery is of a topic the consumer matches, by the publisher, and (when its publish
    /// was acknowledged) exactly what was published.
    private static func checkDeliveries(
        _ session: CrashConsumerSession,
        of consumer: CrashConsumer,
        published: [Int64: ProcessClient.Outgoing],
        _ label: String
    ) {
        let wrong = session.deliveries.filter { delivery in
            if !consumer.matches(delivery.topic) || delivery.account != Self.publisherAccount { return true }
            guard let message = published[delivery.seq] else { return false }
            return delivery.topic != message.topic || delivery.payload != message.payload
        }
        #expect(wrong.isEmpty, "\(label): \(consumer.name) got wrong deliveries: \(wrong.prefix(5).map(\.seq))")
    }

    // MARK: - Publishers

    /// Runs `publishers` pipelining publishers until `delay` ms after the first commit, then kills
    /// the daemon with SIGKILL.
    ///
    /// - Returns: Each publisher's run.
    private static func publishUntilKilled(
        _ daemon: Daemon,
        publishers: Int,
        cycle: Int,
        token: String,
        delay: Int
    ) async throws -> [Int: ProcessClient.PublishRun] {
        let port = daemon.port
        let headBefore = try CrashLog.headSeq(daemon.databaseURL)
        // All authenticated before the clock starts: on a loaded machine a late AUTH would race the kill.
        var clients: [ProcessClient] = []
        for _ in 0..<publishers {
            clients.append(
                try await ProcessClient.onThread {
                    let client = try ProcessClient(port: port)
                    try client.authenticate(account: Self.publisherAccount, token: token)
                    return client
                }
            )
        }
        let runs = try await withThrowingTaskGroup(of: (Int, ProcessClient.PublishRun)?.self) { group in
            for (publisher, client) in clients.enumerated() {
                group.addTask {
                    try await ProcessClient.onThread {
                        let run = client.publish(count: 10_000_000, window: 256, idleTimeout: .seconds(20)) {
                            Self.outgoing(cycle: cycle, publisher: publisher, index: $0)
                        }
                        return (publisher, run)
                    }
                }
            }
            group.addTask {
                try await CrashLog.waitForCommits(after: headBefore, url: daemon.databaseURL)
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
        return runs
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

    /// Re-sends every unanswered PUB that has an `id`, plus the last few acknowledged ones, and
    /// checks that each id is stored exactly once, at the seq the re-send was answered with.
    ///
    /// - Returns: The re-sent messages by the seq they were answered with.
    private static func resend(
        _ runs: [Int: ProcessClient.PublishRun],
        cycle: Int,
        port: Int,
        token: String,
        url: String
    ) async throws -> [Int64: ProcessClient.Outgoing] {
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
        var bySeq: [Int64: ProcessClient.Outgoing] = [:]
        var wrong: [String] = []
        for (index, reply) in run.replies.enumerated() {
            let id = messages[index].headers[0].value
            guard case .published(let seq, let duplicate) = reply else {
                wrong.append("\(id): \(reply)")
                continue
            }
            bySeq[seq] = messages[index]
            if let first = firstSeqs[index], !duplicate || seq != first {
                wrong.append("\(id) was acknowledged as \(first) before the crash, now \(reply)")
            }
            answered[id] = seq
        }
        let stored = try CrashLog.seqsByID(Array(answered.keys), url: url)
        for (id, seq) in answered.sorted(by: { $0.value < $1.value }) where stored[id] != [seq] {
            wrong.append("\(id): answered \(seq) after the restart, stored at \(stored[id] ?? [])")
        }
        #expect(wrong.isEmpty, "cycle \(cycle), \(wrong.count) re-sends went wrong: \(wrong.prefix(5))")
        return bySeq
    }
}
