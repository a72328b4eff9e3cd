import Foundation
import LiaisonClient
import LiaisonCore
import LiaisonServer
import LiaisonStore
import Postgres
import TestSupport
import Testing

/// Durable consumers, explicit acks, redelivery, dead letters, in-flight window, flash priority.
@Suite struct ConsumerTests {
    /// Expects that nothing arrives within `window`.
    private func expectSilence(_ client: LiaisonClient, for window: Duration = .milliseconds(400)) async {
        let extra = try? await collect(client, count: 1, timeout: window)
        #expect(extra == nil, "unexpected delivery: \(String(describing: extra))")
    }

    @Test func unacknowledgedMessagesComeBackAfterTheAckWaitAndAfterNak() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let office = try await daemon.client("unhcr-mm-sittwe")
            try await office.subscribe(
                sid: "s",
                pattern: "field.mm.>",
                options: [("ack", "explicit"), ("ack_wait", "300")]
            )
            let seqs = try await daemon.client("unhcr").publishNumbered(3)
            let first = try await collect(office, count: 3)
            #expect(first.map(\.seq) == seqs)
            #expect(first.allSatisfy { $0.headers["liaison.delivery"] == nil })
            try await office.ack(sid: "s", seq: seqs[0])
            try await office.ack(sid: "s", seq: seqs[1])
            // The third was not acknowledged: it comes back, flagged with its delivery count. (On a
            // loaded machine the first two may have come back before their acks landed: skip those.)
            var again: ReceivedMessage?
            while again == nil {
                let next = try await collect(office, count: 1, timeout: .seconds(10))[0]
                if next.seq == seqs[2] { again = next } else { #expect(next.headers["liaison.delivery"] != nil) }
            }
            let redelivered = try #require(again)
            #expect(Int(redelivered.headers["liaison.delivery"] ?? "") ?? 0 >= 2)
            try await office.ack(sid: "s", seq: seqs[2])
            // Everything acknowledged: after what was already on the wire, nothing more comes.
            try await Task.sleep(for: .milliseconds(300))
            while (try? await collect(office, count: 1, timeout: .milliseconds(50))) != nil {}
            await self.expectSilence(office, for: .milliseconds(3200))

            // NAK: redelivered long before a one-minute ack wait would.
            let nakker = try await daemon.client("undp-ba-sarajevo")
            try await nakker.subscribe(
                sid: "n",
                pattern: "field.ba.>",
                options: [("ack", "explicit"), ("ack_wait", "60000")]
            )
            let ba = try await daemon.client("undp").publishNumbered(1, topic: "field.ba.sarajevo.report")
            #expect(try await collect(nakker, count: 1).map(\.seq) == ba)
            #expect(try await nakker.command("NAK n \(ba[0]) delay=100") == "OK NAK \(ba[0])")
            let nakked = try await collect(nakker, count: 1, timeout: .seconds(10))
            #expect(nakked.map(\.seq) == ba)
            #expect(nakked.first?.headers["liaison.delivery"] == "2")
            #expect(try await nakker.command("NAK n 999999").hasPrefix("ERR 404"))
            #expect(daemon.counters.snapshot.redelivered >= 2)
        }
    }

    @Test func afterMaxDeliverAMessageIsDeadLetteredAndAnAdminCanReplayIt() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let office = try await daemon.client("unhcr-mm-sittwe")
            try await office.subscribe(
                sid: "s",
                pattern: "field.mm.>",
                options: [("durable", "inbox"), ("ack", "explicit"), ("ack_wait", "400"), ("max_deliver", "2")]
            )
            let seqs = try await daemon.client("unhcr").publishNumbered(1)
            let deliveries = try await collect(office, count: 2, timeout: .seconds(5))
            #expect(deliveries.map(\.seq) == [seqs[0], seqs[0]])
            #expect(deliveries.map { $0.headers["liaison.delivery"] } == [nil, "2"])
            // No third delivery: it went to the dead letters.
            await self.expectSilence(office, for: .milliseconds(1000))
            let c = try db.connect()
            let dead = try Consumers().deadLetters(account: "unhcr-mm-sittwe", name: "inbox", limit: 10, on: c)
            #expect(dead.map(\.seq) == [seqs[0]])
            #expect(dead.first?.deliveries == 2)
            // The ack floor moved past it, so a reconnect does not bring it back by itself.
            _ = try Consumers().requestReplay(id: dead[0].id, on: c)
            let replayed = try await collect(office, count: 1, timeout: .seconds(5))
            #expect(replayed.map(\.seq) == [seqs[0]])
            #expect(replayed.first?.headers["liaison.replay"] == "1")
            try await office.ack(sid: "s", seq: seqs[0])
        }
    }

    @Test func aDurableConsumerResumesAfterItsLastAckAcrossReconnects() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let publisher = try await daemon.client("unhcr")
            let options = [("durable", "sittwe"), ("ack", "explicit")]
            var office = try await daemon.client("unhcr-mm-sittwe")
            try await office.subscribe(sid: "a", pattern: "field.mm.>", options: options)
            let early = try await publisher.publishNumbered(10)
            let got = try await collect(office, count: 10)
            #expect(got.map(\.seq) == early)
            for seq in early.prefix(5) { try await office.ack(sid: "a", seq: seq) }
            // Another connection cannot take the same durable while it is bound.
            let rival = try await daemon.client("unhcr-mm-sittwe")
            #expect(try await rival.command("SUB b field.mm.> durable=sittwe ack=explicit").hasPrefix("ERR 409"))
            await office.close()

            let late = try await publisher.publishNumbered(5)
            office = try await daemon.client("unhcr-mm-sittwe")
            try await subscribeRetryingWhileBusy(office, sid: "a", options: options)
            let resumed = try await collect(office, count: 10)
            #expect(resumed.map(\.seq) == Array(early.suffix(5)) + late)
            // from= on an existing durable is refused unless it asks to reset.
            #expect(try await rival.command("SUB c field.mm.> durable=other ack=explicit") == "OK SUB c")
            await office.close()
            office = try await daemon.client("unhcr-mm-sittwe")
            let client = office
            /// The reply to `line`, sent again while the closed connection still holds the durable.
            func reply(_ line: String) async throws -> String {
                let deadline = ContinuousClock.now + .seconds(20)
                while true {
                    let answer = try await client.command(line)
                    if !answer.contains("in use") || ContinuousClock.now >= deadline { return answer }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            let moved = try await reply("SUB a field.mm.> durable=sittwe ack=explicit from=all")
            #expect(moved.hasPrefix("ERR 409") && moved.contains("needs reset=true"), "\(moved)")
            let repatterned = try await reply("SUB a field.*.> durable=sittwe ack=explicit")
            #expect(repatterned.hasPrefix("ERR 409") && repatterned.contains("follows field.mm.>"), "\(repatterned)")
            #expect(try await reply("SUB a field.mm.> durable=sittwe ack=explicit from=all reset=true") == "OK SUB a")
            let all = try await collect(office, count: 15)
            #expect(all.map(\.seq) == early + late)
        }
    }

    @Test func aDurableAutoAckConsumerResumesAfterWhatItConfirmed() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let publisher = try await daemon.client("undp")
            var office = try await daemon.client("undp-ba-sarajevo")
            try await office.subscribe(sid: "a", pattern: "field.ba.>", options: [("durable", "ba"), ("from", "all")])
            let first = try await publisher.publishNumbered(5, topic: "field.ba.sarajevo.report")
            #expect(try await collect(office, count: 5).map(\.seq) == first)
            // The client confirms what it processed (cumulative); it is saved within a tick.
            try await office.ack(sid: "a", seq: first.last!)
            try await Task.sleep(for: .milliseconds(400))
            await office.close()
            let second = try await publisher.publishNumbered(3, topic: "field.ba.sarajevo.report")
            office = try await daemon.client("undp-ba-sarajevo")
            try await subscribeRetryingWhileBusy(office, sid: "a", pattern: "field.ba.>", options: [("durable", "ba")])
            #expect(try await collect(office, count: 3).map(\.seq) == second)
            let stored = try #require(
                try Consumers().find(account: "undp-ba-sarajevo", name: "ba", on: try db.connect())
            )
            #expect(stored.settings.ackMode == .auto)
            #expect(stored.ackFloor >= first.last!)
        }
    }

    @Test func deliveryPausesAtMaxInflightButFlashIsNeverHeldBehindIt() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let office = try await daemon.client("unhcr-mm-sittwe")
            try await office.subscribe(
                sid: "w",
                pattern: "field.mm.>",
                options: [("ack", "explicit"), ("max_inflight", "4")]
            )
            let publisher = try await daemon.client("unhcr")
            let routine = try await publisher.publishNumbered(12)
            let window = try await collect(office, count: 4)
            #expect(window.map(\.seq) == Array(routine.prefix(4)))
            await self.expectSilence(office)
            // A flash message does not wait for the window.
            let flash = try await publisher.publishNumbered(1, topic: "field.mm.sittwe.early-warning", prio: "flash")
            let urgent = try await collect(office, count: 1, timeout: .seconds(3))
            #expect(urgent.map(\.seq) == flash)
            #expect(urgent.first?.headers["liaison.ahead"] == "1")
            // Acks make room (the flash message was in flight too): the routine backlog continues in
            // order, and the flash one is not delivered again when the stream reaches its seq.
            for message in window + urgent { try await office.ack(sid: "w", seq: message.seq) }
            let next = try await collect(office, count: 4)
            #expect(next.map(\.seq) == Array(routine[4..<8]))
            for message in next { try await office.ack(sid: "w", seq: message.seq) }
            let rest = try await collect(office, count: 4)
            #expect(rest.map(\.seq) == Array(routine[8..<12]))
            for message in rest { try await office.ack(sid: "w", seq: message.seq) }
            await self.expectSilence(office)
        }
    }

    /// Found by the flaky-link soak: after a long outage with more flash messages in the backlog
    /// than one page's look-ahead, the later ones waited for the in-order stream to reach them.
    @Test func aLongBacklogSendsEveryFlashMessageAheadOfAllButAPageOfRoutine() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let publisher = try await daemon.client("unhcr")
            var flash: Set<Int64> = []
            for _ in 0..<100 {
                _ = try await publisher.publishNumbered(9)
                flash.formUnion(try await publisher.publishNumbered(1, prio: "flash"))
            }
            let office = try await daemon.client("unhcr-mm-sittwe")
            try await office.subscribe(sid: "b", pattern: "field.mm.>", options: [("from", "all")])
            let received = try await collect(office, count: 1_000, timeout: .seconds(60))
            #expect(Set(received.map(\.seq)).count == 1_000)
            // The default replay page is 256 messages: no flash message waits behind more routine ones.
            var routineBefore = 0
            for message in received {
                if flash.contains(message.seq) {
                    #expect(routineBefore <= 256, "flash \(message.seq) came after \(routineBefore) routine")
                } else {
                    routineBefore += 1
                }
            }
        }
    }

    @Test func badConsumerOptionsAreRefusedWithACode() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let client = try await daemon.client("ohchr")
            #expect(try await client.command("SUB a hq.> colour=blue").hasPrefix("ERR 400"))
            #expect(try await client.command("SUB a hq.> ack=explicit ack_wait=0").hasPrefix("ERR 400"))
            #expect(try await client.command("SUB a hq.> max_inflight=lots").hasPrefix("ERR 400"))
            #expect(try await client.command("SUB a hq.> reset=true").hasPrefix("ERR 400"))
            #expect(try await client.command("SUB a hq.>") == "OK SUB a")
            #expect(try await client.command("NAK a 1").hasPrefix("ERR 409"))
            #expect(try await client.command("NAK zz 1").hasPrefix("ERR 404"))
            #expect(try await client.command("NAK a 1 delay=soon").hasPrefix("ERR 400"))
            try await client.sendRaw(Array("PUB hq.ohchr.x 1 liaison.delivery=9\nx\n".utf8))
            #expect(try await client.nextReply().hasPrefix("ERR 400"))
        }
    }
}
