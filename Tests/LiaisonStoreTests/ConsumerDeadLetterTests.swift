import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import TestSupport
import Testing

/// Dead letters of durable consumers, and the message reads the daemon uses to redeliver.
@Suite struct ConsumerDeadLetterTests {
    private typealias Fixture = ConsumerTests.Fixture

    @Test func deadLetteringTwiceKeepsOneRecord() throws {
        let f = try Fixture()
        defer { f.db.drop() }
        try f.open()
        try f.deadLetter(index: 1)
        try f.deadLetter(index: 1)
        let letters = try f.deadLetters(account: "unhcr", name: "d")
        #expect(letters.count == 1)
        let letter = try #require(letters.first)
        #expect(letter.account == "unhcr")
        #expect(letter.consumer == "d")
        #expect(letter.seq == f.seq(1))
        #expect(letter.topic == "field.mm.sittwe.report")
        #expect(letter.deliveries == 5)
        #expect(letter.reason == "max_deliver 5 reached")
        #expect(letter.replayRequestedAt == nil)
        #expect(letter.replayedAt == nil)

        let missing = #expect(throws: StoreError.self) { try f.deadLetter("gone", index: 0) }
        #expect(missing?.code == .notFound)
    }

    @Test func listingFiltersByAccountAndConsumerOldestFirst() throws {
        let f = try Fixture()
        defer { f.db.drop() }
        try f.open("a")
        try f.open("b")
        try f.open("a", account: "ohchr")
        for (account, name, index) in [("unhcr", "a", 2), ("unhcr", "b", 0), ("ohchr", "a", 1), ("unhcr", "a", 0)] {
            try f.deadLetter(name, index: index, account: account, deliveries: 3, reason: "max_deliver 3 reached")
        }
        let all = try f.deadLetters()
        #expect(all.map(\.seq) == [f.seq(2), f.seq(0), f.seq(1), f.seq(0)])
        #expect(all.map(\.id) == all.map(\.id).sorted())
        #expect(try f.deadLetters(account: "unhcr").count == 3)
        #expect(try f.deadLetters(name: "a").count == 3)
        #expect(try f.deadLetters(account: "unhcr", name: "a").map(\.seq) == [f.seq(2), f.seq(0)])
        #expect(try f.deadLetters(limit: 2).count == 2)
        #expect(try f.consumers.deadLetterCount(account: "unhcr", name: "a", on: f.connection) == 2)
        #expect(try f.consumers.deadLetterCount(account: "ohchr", name: "b", on: f.connection) == 0)
    }

    @Test func aRequestedReplayIsTakenOnce() throws {
        let f = try Fixture()
        defer { f.db.drop() }
        let consumers = f.consumers
        try f.open()
        for index in [2, 0, 1] {
            try f.deadLetter(index: index)
        }
        #expect(try consumers.takeReplays(account: "unhcr", name: "d", on: f.connection).isEmpty)
        let letters = try f.deadLetters()
        let requested = try consumers.requestReplay(id: letters[0].id, on: f.connection)
        #expect(requested.replayRequestedAt != nil)
        #expect(requested.replayedAt == nil)
        _ = try consumers.requestReplay(id: letters[1].id, on: f.connection)

        #expect(try consumers.takeReplays(account: "unhcr", name: "d", on: f.connection) == [f.seq(0), f.seq(2)])
        #expect(try consumers.takeReplays(account: "unhcr", name: "d", on: f.connection).isEmpty)
        let after = try f.deadLetters()
        #expect(after[0].replayedAt != nil)
        #expect(after[2].replayedAt == nil)

        // Asked again after it was done: replayed again.
        _ = try consumers.requestReplay(id: letters[0].id, on: f.connection)
        #expect(try consumers.takeReplays(account: "unhcr", name: "d", on: f.connection) == [f.seq(2)])

        let missing = #expect(throws: StoreError.self) { try consumers.requestReplay(id: 999_999, on: f.connection) }
        #expect(missing?.code == .notFound)
    }

    @Test func aReplayedLetterThatFailsAgainIsRecordedAfresh() throws {
        let f = try Fixture()
        defer { f.db.drop() }
        try f.open()
        try f.deadLetter(index: 0)
        let id = try #require(try f.deadLetters().first).id
        _ = try f.consumers.requestReplay(id: id, on: f.connection)
        _ = try f.consumers.takeReplays(account: "unhcr", name: "d", on: f.connection)
        try f.deadLetter(index: 0, deliveries: 1, reason: "not acknowledged after replay")
        let again = try #require(try f.deadLetters().first)
        #expect(again.id == id)
        #expect(again.deliveries == 1)
        #expect(again.reason == "not acknowledged after replay")
        #expect(again.replayRequestedAt == nil)
        #expect(again.replayedAt == nil)
    }

    @Test func fetchReadsExactlyTheGivenSeqsInOrder() throws {
        let f = try Fixture()
        defer { f.db.drop() }
        let log = MessageLog()
        let fetched = try log.fetch(seqs: [f.seq(2), 999_999, f.seq(0), f.seq(2)], on: f.connection)
        #expect(fetched == [f.messages[0], f.messages[2]])
        #expect(try log.fetch(seqs: [], on: f.connection).isEmpty)
    }

    @Test func flashLooksAheadOnlyAtFlashMessagesOfThePattern() throws {
        let f = try Fixture(topics: [])
        defer { f.db.drop() }
        let c = f.connection
        try Fixture.publish("hq.ohchr.guidance-note", headers: [("prio", "flash")], on: c)
        try Fixture.publish("hq.ohchr.guidance-note", headers: [("prio", "routine")], on: c)
        try Fixture.publish("field.mm.sittwe.early-warning", headers: [("prio", "flash")], on: c)
        try Fixture.publish("hq.undp.action-plan", headers: [("prio", "flash")], on: c)
        try Fixture.publish("hq.undp.action-plan", on: c)
        let all = try MessageLog().read(after: 0, matching: nil, limit: 10, on: c)
        let log = MessageLog()

        func flash(after seq: Int64 = 0, _ pattern: String, limit: Int = 10) throws -> [Int64] {
            try log.flash(after: seq, matching: try TopicPattern(pattern), limit: limit, on: c).map(\.seq)
        }
        #expect(try flash("hq.>") == [all[0].seq, all[3].seq])
        #expect(try flash(after: all[0].seq, "hq.>") == [all[3].seq])
        #expect(try flash(">", limit: 2) == [all[0].seq, all[2].seq])
        #expect(try flash("field.mm.sittwe.early-warning") == [all[2].seq])
        #expect(try flash("*.undp.>") == [all[3].seq])
        let first = try #require(try log.flash(after: 0, matching: try TopicPattern(">"), limit: 1, on: c).first)
        #expect(first == all[0])
        #expect(first.headers["prio"] == "flash")
    }

    @Test func theFlashLookAheadUsesItsPartialIndex() throws {
        let f = try Fixture(topics: [])
        defer { f.db.drop() }
        let c = f.connection
        let routine = try (0..<2_000).map { i in
            NewMessage(topic: try Topic("hq.ohchr.n\(i)"), account: "ohchr", headers: Headers(), payload: [1])
        }
        _ = try MessageLog().append(routine, on: c)
        try Fixture.publish("hq.ohchr.guidance-note", headers: [("prio", "flash")], on: c)
        try c.query("ANALYZE messages")
        func scans() throws -> Int64 {
            // Statistics reach the shared view when a transaction ends; force it, then read afresh.
            try c.query("SELECT pg_stat_force_next_flush()")
            try c.query("SELECT pg_stat_clear_snapshot()")
            return try c.query(
                "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'messages_flash_seq'"
            ).decode(Int64.self, row: 0, column: 0)
        }
        let before = try scans()
        let found = try MessageLog().flash(after: 0, matching: try TopicPattern("hq.>"), limit: 10, on: c)
        #expect(found.map(\.topic.value) == ["hq.ohchr.guidance-note"])
        #expect(try scans() > before)
    }

    /// A subscription that ends returns the deliveries behind its oldest in-flight message
    /// uncounted: each stored count goes one lower (to 0 for a first delivery), unless a newer
    /// binding has raised it meanwhile.
    @Test func returnedDeliveriesAreRecordedOneLowerUnlessRaisedMeanwhile() throws {
        let f = try Fixture()
        defer { f.db.drop() }
        try f.open()
        let (a, b, c) = (f.seq(0), f.seq(1), f.seq(2))
        func record(deliveries: [Int64: Int] = [:], returned: [Int64: Int] = [:]) throws {
            try f.consumers.record(
                [
                    ConsumerProgress(
                        account: "unhcr",
                        name: "d",
                        ackFloor: 0,
                        deliveredSeq: c,
                        deliveries: deliveries,
                        returned: returned
                    )
                ],
                on: f.connection
            )
        }
        try record(deliveries: [a: 3, b: 1, c: 2])
        // The session that delivered b once and c a second time ends; a newer one already took c
        // to its third delivery, so that return no longer applies.
        try record(deliveries: [c: 3])
        try record(returned: [b: 1, c: 2])
        #expect(try f.consumers.pending(account: "unhcr", name: "d", on: f.connection) == [a: 3, b: 0, c: 3])
    }
}
