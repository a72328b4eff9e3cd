import Foundation
import LiaisonClient
import LiaisonCore
import LiaisonServer
import LiaisonStore
import Postgres
import TestSupport
import Testing

/// The faults field offices meet, reproduced end to end: a link dropped with messages queued, a
/// consumer that crashes on a message every time, a commit whose database connection dies.
@Suite struct NothingLostTests {
    /// Reported: a durable `ack=auto` subscriber whose link dropped after reading 20 of 600
    /// queued messages got nothing on resume (the cursor had moved past what was only queued).
    @Test func aDurableAutoSubscriberWhoseLinkResetsMidStreamResumesWithNothingSkipped() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let options = [("durable", "sittwe-feed"), ("from", "all")]
            let office = try await daemon.client("unhcr-mm-sittwe")
            try await office.subscribe(sid: "s", pattern: "field.mm.>", options: options)
            let seqs = try await daemon.client("unhcr").publishNumbered(600, bytes: 4096)
            let first = try await collect(office, count: 20)
            #expect(first.map(\.seq) == Array(seqs.prefix(20)))
            // The office confirms what it processed, then its link drops with the rest queued.
            try await office.ack(sid: "s", seq: first.last!.seq)
            await office.close()
            try await Task.sleep(for: .milliseconds(300))

            let resumed = try await daemon.client("unhcr-mm-sittwe")
            try await subscribeRetryingWhileBusy(resumed, options: [("durable", "sittwe-feed")])
            let rest = try await collect(resumed, count: 580, timeout: .seconds(60))
            #expect(rest.map(\.seq) == Array(seqs.dropFirst(20)))
        }
    }

    /// A durable that never confirms resumes where it last confirmed: redelivery, not a skip.
    @Test func aDurableThatNeverConfirmsGetsEverythingAgain() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let office = try await daemon.client("unhcr-mm-sittwe")
            try await office.subscribe(
                sid: "s",
                pattern: "field.mm.>",
                options: [("durable", "quiet"), ("from", "all")]
            )
            let seqs = try await daemon.client("unhcr").publishNumbered(50)
            #expect(try await collect(office, count: 50).map(\.seq) == seqs)
            try await Task.sleep(for: .milliseconds(300))  // several progress ticks pass
            await office.close()
            try await Task.sleep(for: .milliseconds(300))
            let again = try await daemon.client("unhcr-mm-sittwe")
            try await subscribeRetryingWhileBusy(again, options: [("durable", "quiet")])
            #expect(try await collect(again, count: 50).map(\.seq) == seqs)
        }
    }

    /// Reported: a consumer with `max_deliver=3` that crashed on one message and reconnected got
    /// it 6 times in 6 reconnects and it never reached the dead letters.
    @Test func aCrashLoopingConsumerEndsWithItsPoisonMessageInTheDeadLetters() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            // One in flight at a time: the consumer only ever holds the message it crashes on.
            let options = [("durable", "crashy"), ("ack", "explicit"), ("max_deliver", "3"), ("max_inflight", "1")]
            // Created before the messages exist, so it starts before them.
            let creator = try await daemon.client("unhcr-mm-sittwe")
            try await creator.subscribe(sid: "s", pattern: "field.mm.>", options: options)
            await creator.close()
            try await Task.sleep(for: .milliseconds(300))  // its binding is gone before anything is published
            let seqs = try await daemon.client("unhcr").publishNumbered(2)
            var deliveries = 0
            var counts: [Int] = []
            for _ in 0..<6 {
                // Connect, receive the poison message, crash before acknowledging it.
                let consumer = try await daemon.client("unhcr-mm-sittwe")
                try await subscribeRetryingWhileBusy(consumer, options: options)
                let got = try? await collect(consumer, count: 1, timeout: .seconds(10))
                if let poison = got?.first, poison.seq == seqs[0] {
                    deliveries += 1
                    counts.append(Int(poison.headers["liaison.delivery"] ?? "1") ?? 0)
                }
                await consumer.close()
                if got?.first?.seq == seqs[1] { break }
            }
            // Each reconnect got it again with its count raised, never past max_deliver (on a
            // loaded machine a delivery may land after the consumer gave up waiting: then it
            // counts in the store without being seen here).
            #expect(deliveries >= 1 && deliveries <= 3, "delivery counts seen: \(counts)")
            #expect(counts == counts.sorted() && Set(counts).count == counts.count && counts.allSatisfy { $0 <= 3 })
            let letters = try db.connect().query(
                "SELECT seq, deliveries FROM dead_letters WHERE account = 'unhcr-mm-sittwe' AND consumer = 'crashy'"
            )
            #expect(letters.rowCount == 1)
            #expect(try letters.decode(Int64.self, row: 0, column: 0) == seqs[0])
            #expect(try letters.decode(Int.self, row: 0, column: 1) == 3)
            // The next message flows; the poison one does not come back.
            let healthy = try await daemon.client("unhcr-mm-sittwe")
            try await subscribeRetryingWhileBusy(healthy, options: options)
            let next = try await collect(healthy, count: 1)
            #expect(next.map(\.seq) == [seqs[1]])
        }
    }

    /// A consumer that crashes on one message while more are in flight behind it: only the one
    /// it crashes on ends in the dead letters; the others come back uncounted and flow once it
    /// is gone. Before, each crash counted a delivery of the whole window, and the window went
    /// to the dead letters with it.
    @Test func aCrashLoopingConsumerWithAWindowDeadLettersOnlyTheMessageItCrashesOn() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let options = [("durable", "crashy"), ("ack", "explicit"), ("max_deliver", "3"), ("max_inflight", "10")]
            let creator = try await daemon.client("unhcr-mm-sittwe")
            try await creator.subscribe(sid: "s", pattern: "field.mm.>", options: options)
            await creator.close()
            try await Task.sleep(for: .milliseconds(300))
            let seqs = try await daemon.client("unhcr").publishNumbered(5)
            var crashes = 0
            var rest: [ReceivedMessage] = []
            var healthy: LiaisonClient?
            for _ in 0..<8 {
                let consumer = try await daemon.client("unhcr-mm-sittwe")
                try await subscribeRetryingWhileBusy(consumer, options: options)
                guard let first = try? await collect(consumer, count: 1, timeout: .seconds(10)).first else {
                    await consumer.close()
                    continue
                }
                if first.seq != seqs[0] {
                    // The poison message is gone: the rest flows, and is acknowledged.
                    rest = [first] + (try await collect(consumer, count: seqs.count - 2))
                    for message in rest { try await consumer.ack(sid: "s", seq: message.seq) }
                    healthy = consumer
                    break
                }
                // The others arrive behind it (in flight), then the consumer crashes.
                _ = try? await collect(consumer, count: seqs.count - 1, timeout: .seconds(5))
                await consumer.close()
                crashes += 1
            }
            #expect(crashes >= 1 && crashes <= 3, "\(crashes) crashes on the poison message")
            #expect(rest.map(\.seq) == Array(seqs.dropFirst()), "after the poison message: \(rest.map(\.seq))")
            // The binding that found the poison message used up moves it to the dead letters on
            // its next tick (every 100 ms).
            let connection = try db.connect()
            defer { connection.close() }
            var lettered: [Int64] = []
            for _ in 0..<100 where lettered.isEmpty {
                try await Task.sleep(for: .milliseconds(50))
                let letters = try connection.query(
                    "SELECT seq FROM dead_letters WHERE account = 'unhcr-mm-sittwe' AND consumer = 'crashy' ORDER BY seq"
                )
                lettered = try (0..<letters.rowCount).map { try letters.decode(Int64.self, row: $0, column: 0) }
            }
            #expect(lettered == [seqs[0]])
            await healthy?.close()
        }
    }

    /// The database connection dies under sustained publishing: every `OK PUB` is stored, every
    /// "not stored" is not, and a live subscriber receives exactly what is stored, in order.
    @Test func publishesAreAnsweredTruthfullyWhenTheDatabaseConnectionDiesMidCommit() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let subscriber = try await daemon.client("ohchr")
            try await subscriber.subscribe(sid: "s", pattern: "field.mm.>")
            let publisher = try await daemon.client("unhcr")
            let killer = Task {
                let c = try db.connect()
                for _ in 0..<8 {
                    try await Task.sleep(for: .milliseconds(150))
                    try c.query(
                        """
                        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                        WHERE datname = current_database() AND pid <> pg_backend_pid()
                        """
                    )
                }
            }
            var confirmed: [Int64] = []
            var notStored: [String] = []
            for round in 0..<40 {
                let batch = (0..<25).map { index in
                    (
                        topic: "field.mm.sittwe.report", payload: Array("r\(round)-\(index)".utf8),
                        headers: [(String, String)]()
                    )
                }
                for (index, result) in try await publisher.publishPipelined(batch).enumerated() {
                    switch result {
                    case .success(let ack): confirmed.append(ack.seq)
                    case .failure(let error) where error.text.contains("not stored"):
                        notStored.append("r\(round)-\(index)")
                    case .failure(let error):
                        #expect(error.code == 503)
                    }
                }
            }
            _ = try await killer.value
            let c = try db.connect()
            let stored = try c.query("SELECT seq, convert_from(payload, 'UTF8') FROM messages ORDER BY seq")
            var storedSeqs: [Int64] = []
            var storedPayloads: Set<String> = []
            for row in 0..<stored.rowCount {
                storedSeqs.append(try stored.decode(Int64.self, row: row, column: 0))
                storedPayloads.insert(try stored.decode(String.self, row: row, column: 1))
            }
            #expect(Set(confirmed).isSubset(of: Set(storedSeqs)))
            #expect(storedPayloads.isDisjoint(with: Set(notStored)))
            // Every committed row reaches the live subscriber, in seq order, once.
            let delivered = try await collect(subscriber, count: storedSeqs.count, timeout: .seconds(60))
            #expect(delivered.map(\.seq) == storedSeqs)
        }
    }
}
