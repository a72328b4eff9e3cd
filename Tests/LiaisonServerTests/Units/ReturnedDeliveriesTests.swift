import LiaisonCore
import LiaisonStore
import Testing

@testable import LiaisonServer

/// A durable `ack=explicit` subscription that ends with messages in flight: the oldest one's
/// delivery counts towards `max_deliver`, the ones behind it go back uncounted (a consumer that
/// crashes on a message every time stops at that one; a link that drops stops wherever it is).
@Suite struct ReturnedDeliveriesTests {
    typealias H = MachineHarness

    private static func releasedProgress(_ actions: [SessionAction]) -> ConsumerProgress? {
        for action in actions {
            if case .store(.releaseConsumer(let progress, _, _)) = action { return progress }
        }
        return nil
    }

    /// Reported: 5 links cut in a row with 49 messages in flight sent all 49 to the dead letters
    /// (`max_deliver` 5), healthy messages the follower had never seen.
    @Test func aClosedConnectionCountsOnlyTheOldestDeliveryInFlight() {
        // An earlier session delivered 5 twice and 6 once.
        var (h, bound) = H.reboundExplicitFeed(deliveredSeq: 6, pending: [5: 2, 6: 1])
        guard let (page, _) = h.answerPage(bound, (5...9).map { H.message($0) }) else { return }
        #expect(
            H.written(page) == [
                "MSG 1 5 liaison.delivery=3", "MSG 1 6 liaison.delivery=2", "MSG 1 7", "MSG 1 8", "MSG 1 9",
            ]
        )
        _ = h.send("ACK 1 8")
        guard let progress = Self.releasedProgress(h.machine.channelInactive()) else {
            Issue.record("the ended subscription recorded no progress")
            return
        }
        // 5 keeps its third delivery; 6 and 7 go back to what they had before this connection.
        #expect(progress.returned == [6: 2, 7: 1, 9: 1])
        #expect(progress.settled == [8])
    }

    @Test func messagesOnTheirWayToTheDeadLettersAreNeitherReturnedNorTheOldest() {
        var tracker = AckTracker(ackWaitMilliseconds: 1_000, maxDeliver: 3, maxInflight: 10)
        // 4 used up max_deliver in an earlier session and only waits for its move.
        tracker.exhausted(seq: 4, topic: "t", deliveries: 3, now: 0)
        tracker.delivered(seq: 5, topic: "t", now: 0, deliveries: 3)
        tracker.delivered(seq: 6, topic: "t", now: 0)
        tracker.delivered(seq: 7, topic: "t", now: 0)
        #expect(tracker.returnedUncounted() == [6: 1, 7: 1])
        // The ack wait passes: 4 and 5 move to the dead letters, 6 and 7 go out a second time.
        let due = tracker.takeDue(now: 5_000)
        #expect(due.deadLetter.map(\.seq) == [4, 5])
        #expect(due.redeliver.map(\.seq) == [6, 7])
        #expect(tracker.returnedUncounted() == [7: 2])

        var one = AckTracker(ackWaitMilliseconds: 1_000, maxDeliver: 3, maxInflight: 10)
        one.delivered(seq: 5, topic: "t", now: 0)
        #expect(one.returnedUncounted().isEmpty)
    }

    /// Reported in review: the lowest seq was taken as "the oldest", so a flash message that went
    /// out ahead of lower seqs and crashed the consumer went back uncounted every time, and the
    /// healthy lower ones were counted instead, to the dead letters.
    @Test func theMessageDeliveredFirstKeepsItsCountWhateverItsSeq() {
        var tracker = AckTracker(ackWaitMilliseconds: 1_000, maxDeliver: 3, maxInflight: 10)
        tracker.delivered(seq: 105, topic: "t", now: 0)
        for seq in Int64(101)...104 { tracker.delivered(seq: seq, topic: "t", now: 0) }
        #expect(tracker.returnedUncounted() == [101: 1, 102: 1, 103: 1, 104: 1])
    }

    @Test func aNakedMessageAndAnAdminsReplayAreNotTheFirst() {
        var tracker = AckTracker(ackWaitMilliseconds: 1_000, maxDeliver: 3, maxInflight: 10)
        tracker.delivered(seq: 2, topic: "t", now: 0, replay: true)
        tracker.delivered(seq: 5, topic: "t", now: 0)
        tracker.delivered(seq: 6, topic: "t", now: 0)
        tracker.delivered(seq: 7, topic: "t", now: 0)
        // The client got 5 and handed it back; it is 6 it never acknowledged first.
        let naked = tracker.nak(seq: 5, delayMilliseconds: 10_000, now: 0)
        #expect(naked)
        #expect(tracker.returnedUncounted() == [7: 1])
        // Redelivered after its delay (with 2, 6 and 7 after their ack wait: 2, the replay, is
        // still no candidate), 5 goes out before 8.
        _ = tracker.takeDue(now: 20_000)
        _ = tracker.ack(seq: 6)
        _ = tracker.ack(seq: 7)
        tracker.delivered(seq: 8, topic: "t", now: 20_000)
        #expect(tracker.returnedUncounted() == [8: 1])
    }

    /// A flash message an earlier session sent ahead is pending above the floor and above the
    /// delivered seq: its count goes on (with the redelivery flag), and at max_deliver it goes
    /// to the dead letters rather than out again as a first delivery in every session.
    @Test func aFlashMessageSentAheadKeepsItsCountAcrossSessions() {
        var (h, bound) = H.reboundExplicitFeed(deliveredSeq: 4, pending: [7: 1])
        let messages = [H.message(5), H.message(6), H.message(7, flash: true), H.message(8)]
        guard let (page, _) = h.answerPage(bound, messages) else { return }
        #expect(
            H.written(page) == [
                "MSG 1 7 liaison.delivery=2 liaison.ahead=1", "MSG 1 5", "MSG 1 6", "MSG 1 8",
            ]
        )
        guard let progress = Self.releasedProgress(h.machine.channelInactive()) else {
            Issue.record("the ended subscription recorded no progress")
            return
        }
        // 7 went out first: it keeps its second delivery; 5, 6 and 8 go back uncounted.
        #expect(progress.returned == [5: 1, 6: 1, 8: 1])

        var (next, rebound) = H.reboundExplicitFeed(deliveredSeq: 8, pending: [5: 0, 6: 0, 7: 3, 8: 0])
        guard let (again, _) = next.answerPage(rebound, messages) else { return }
        // 7 used up max_deliver 3: not sent again; the others come back flagged, counted once.
        #expect(
            H.written(again) == [
                "MSG 1 5 liaison.delivery=1", "MSG 1 6 liaison.delivery=1", "MSG 1 8 liaison.delivery=1",
            ]
        )
    }
}
