import Foundation
import LiaisonClient
import LiaisonServer
import Postgres
import TestSupport
import Testing

/// Publish and deliver over real TCP against the real daemon and PostgreSQL.
@Suite struct DeliveryTests {
    @Test func publishAndDeliverAcrossClientsWithWildcards() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let office = try await daemon.client("unhcr-mm-sittwe")
            try await office.subscribe(sid: "mm", pattern: "field.mm.>")
            try await office.subscribe(sid: "ew", pattern: "field.*.*.early-warning")
            let hq = try await daemon.client("ohchr")
            try await hq.subscribe(sid: "hq", pattern: "hq.*.guidance-note.*")

            let publisher = try await daemon.client("unhcr")
            let payload: [UInt8] = Array("tension rising\r\nnear the market\0end".utf8)
            let a = try await publisher.publish(
                topic: "field.mm.sittwe.early-warning",
                payload: payload,
                headers: [("prio", "flash")]
            )
            let b = try await publisher.publish(topic: "field.ba.sarajevo.early-warning", payload: Array("b".utf8))
            let c = try await publisher.publish(topic: "hq.ohchr.guidance-note.rec-07", payload: Array("c".utf8))
            let d = try await publisher.publish(topic: "field.mm.yangon.report", payload: [])
            _ = try await publisher.publish(topic: "hq.ohchr.action-plan.ap-01", payload: Array("nobody".utf8))
            #expect(a.seq < b.seq && b.seq < c.seq && c.seq < d.seq)

            let officeGot = try await collect(office, count: 4)
            #expect(
                officeGot.map { "\($0.sid):\($0.seq)" }.sorted()
                    == ["ew:\(a.seq)", "ew:\(b.seq)", "mm:\(a.seq)", "mm:\(d.seq)"].sorted()
            )
            let first = try #require(officeGot.first { $0.sid == "mm" && $0.seq == a.seq })
            #expect(first.payload == payload)
            #expect(first.account == "unhcr")
            #expect(first.topic == "field.mm.sittwe.early-warning")
            #expect(first.headers["prio"] == "flash")
            // Per subscription, seq order.
            let mm = officeGot.filter { $0.sid == "mm" }.map(\.seq)
            #expect(mm == mm.sorted())

            let hqGot = try await collect(hq, count: 1)
            #expect(hqGot.map(\.seq) == [c.seq])
            // Nothing else arrives for `hq` (the action-plan topic does not match): a PING round trip
            // after a later matching publish proves ordering without sleeping.
            let e = try await publisher.publish(topic: "hq.undp.guidance-note.rec-01", payload: [])
            let next = try await collect(hq, count: 1)
            #expect(next.map(\.seq) == [e.seq])
            await office.close()
            await hq.close()
            await publisher.close()
        }
    }

    @Test func replayFromSeqThenLiveHasNoGapAndNoDuplicate() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db, limits: .with { $0.replayPageSize = 16 }) { daemon in
            let publisher = try await daemon.client("undp")
            let before = try await publisher.publishPipelined(
                (0..<100).map { (topic: "field.ba.sarajevo.report", payload: Array("old \($0)".utf8), headers: []) }
            )
            let seqs = try before.map { try $0.get().seq }
            let startSeq = seqs[37]

            // Publish more concurrently while the subscriber replays, so the seam is exercised.
            let live = Task {
                var acked: [Int64] = []
                for batch in 0..<10 {
                    let results = try await publisher.publishPipelined(
                        (0..<20).map {
                            (topic: "field.ba.sarajevo.report", payload: Array("new \(batch).\($0)".utf8), headers: [])
                        }
                    )
                    acked += try results.map { try $0.get().seq }
                }
                return acked
            }
            let subscriber = try await daemon.client("undp-ba-sarajevo")
            try await subscriber.subscribe(sid: "r", pattern: "field.ba.>", options: [("from", "\(startSeq)")])
            let after = try await live.value
            let expected = Array(seqs[37...]) + after
            let got = try await collect(subscriber, count: expected.count)
            #expect(got.map(\.seq) == expected)
            #expect(Set(got.map(\.seq)).count == got.count)
            #expect(got.first.map { String(decoding: $0.payload, as: UTF8.self) } == "old 37")
            await subscriber.close()
            await publisher.close()
        }
    }

    @Test func fromAllAndFromTimeReplayHistory() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let publisher = try await daemon.client("ohchr")
            let first = try await publisher.publish(topic: "hq.ohchr.guidance-note.rec-01", payload: Array("1".utf8))
            try await Task.sleep(for: .milliseconds(50))
            let cut = Date()
            try await Task.sleep(for: .milliseconds(50))
            let second = try await publisher.publish(topic: "hq.ohchr.guidance-note.rec-02", payload: Array("2".utf8))

            let all = try await daemon.client("unhcr")
            try await all.subscribe(sid: "a", pattern: "hq.>", options: [("from", "all")])
            #expect(try await collect(all, count: 2).map(\.seq) == [first.seq, second.seq])

            let since = try await daemon.client("undp")
            let stamp = ISO8601DateFormatter.string(
                from: cut,
                timeZone: TimeZone(identifier: "UTC")!,
                formatOptions: [.withInternetDateTime, .withFractionalSeconds]
            )
            try await since.subscribe(sid: "t", pattern: "hq.>", options: [("from", stamp)])
            #expect(try await collect(since, count: 1).map(\.seq) == [second.seq])
            await all.close()
            await since.close()
            await publisher.close()
        }
    }

    @Test func historySurvivesARestart() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let published = try await TestDaemon.run(db) { daemon in
            let publisher = try await daemon.client("unhcr")
            let ack = try await publisher.publish(topic: "field.mm.sittwe.report", payload: Array("kept".utf8))
            await publisher.close()
            return ack.seq
        }
        try await TestDaemon.run(db) { daemon in
            let subscriber = try await daemon.client("unhcr-mm-sittwe")
            try await subscriber.subscribe(sid: "s", pattern: "field.mm.>", options: [("from", "all")])
            let got = try await collect(subscriber, count: 1)
            #expect(got.map(\.seq) == [published])
            #expect(got.first?.payload == Array("kept".utf8))
            // New publishes continue the sequence.
            let more = try await (try await daemon.client("unhcr")).publish(
                topic: "field.mm.sittwe.report",
                payload: []
            )
            #expect(more.seq > published)
        }
    }
}

/// `PUB … id=<key>` end to end: `OK PUB <first seq> DUP`, nothing delivered twice, across a restart.
@Suite struct IdempotentPublishTests {
    @Test func aRepeatedIdIsAnsweredDupAndNotDeliveredAgainEvenAfterARestart() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let first = try await TestDaemon.run(db) { daemon in
            let subscriber = try await daemon.client("unhcr-mm-sittwe")
            try await subscriber.subscribe(sid: "s", pattern: "field.mm.>")
            let publisher = try await daemon.client("unhcr")
            let a = try await publisher.publish(
                topic: "field.mm.sittwe.report",
                payload: Array("outbox 1".utf8),
                headers: [("id", "outbox-1")]
            )
            let b = try await publisher.publish(
                topic: "field.mm.sittwe.report",
                payload: Array("outbox 1".utf8),
                headers: [("id", "outbox-1")]
            )
            #expect(!a.duplicate)
            #expect(b.duplicate)
            #expect(b.seq == a.seq)
            try await publisher.sendRaw(Array("PUB field.mm.sittwe.report 1 id=outbox-1\nx\n".utf8))
            #expect(try await publisher.nextReply() == "OK PUB \(a.seq) DUP")
            let c = try await publisher.publish(
                topic: "field.mm.sittwe.report",
                payload: Array("outbox 2".utf8),
                headers: [("id", "outbox-2")]
            )
            let got = try await collect(subscriber, count: 2)
            #expect(got.map(\.seq) == [a.seq, c.seq])
            #expect(daemon.counters.snapshot.duplicates == 2)
            return a.seq
        }
        try await TestDaemon.run(db) { daemon in
            let publisher = try await daemon.client("unhcr")
            let again = try await publisher.publish(
                topic: "field.mm.sittwe.report",
                payload: Array("outbox 1".utf8),
                headers: [("id", "outbox-1")]
            )
            #expect(again.duplicate)
            #expect(again.seq == first)
            // The same key from another account is its own message.
            let other = try await (try await daemon.client("undp")).publish(
                topic: "field.mm.sittwe.report",
                payload: [],
                headers: [("id", "outbox-1")]
            )
            #expect(!other.duplicate)
        }
    }
}
