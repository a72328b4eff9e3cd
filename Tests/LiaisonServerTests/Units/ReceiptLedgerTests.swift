import Foundation
import LiaisonCore
import LiaisonStore
import Logging
import Testing

@testable import LiaisonServer

/// The receipt ledger and queue without sockets or a database: events in, ranges out.
@Suite struct ReceiptLedgerTests {
    private typealias Span = ReceiptLedger.Span

    @Test func inOrderDeliveriesMakeOneRangePerFlushAndTheNextFollowsIt() {
        var ledger = ReceiptLedger(floor: 0, now: 0)
        for seq in [3, 5, 9] as [Int64] { ledger.delivered(seq: seq, clearance: .internal, now: 100 + seq) }
        #expect(
            ledger.take() == [
                Span(
                    kind: .inOrder,
                    firstSeq: 3,
                    lastSeq: 9,
                    firstAt: 103,
                    lastAt: 109,
                    clearance: .internal,
                    follows: false
                )
            ]
        )
        #expect(ledger.isEmpty)
        ledger.delivered(seq: 12, clearance: .internal, now: 1_200)
        #expect(ledger.take().map(\.follows) == [true])
        #expect(ledger.take().isEmpty)
    }

    @Test func aFlashMessageAheadGetsItsOwnRangeAndTheInOrderRangeExtendsOverIt() {
        var ledger = ReceiptLedger(floor: 0, now: 0)
        ledger.delivered(seq: 1, clearance: .internal, now: 10)
        ledger.deliveredAhead(seq: 40, clearance: .internal, now: 20)
        // The in-order stream passes over 40 (already sent) and goes on.
        ledger.delivered(seq: 41, clearance: .internal, now: 30)
        let spans = ledger.take()
        #expect(spans.count == 2)
        #expect(
            spans[0]
                == Span(
                    kind: .ahead,
                    firstSeq: 40,
                    lastSeq: 40,
                    firstAt: 20,
                    lastAt: 20,
                    clearance: .internal,
                    follows: false
                )
        )
        #expect(spans[1].kind == .inOrder && spans[1].firstSeq == 1 && spans[1].lastSeq == 41)
        #expect(spans.allSatisfy { $0.event == .delivered })
    }

    @Test func aMessagePassedOverClosesTheRangeAndBreaksTheChain() {
        var ledger = ReceiptLedger(floor: 0, now: 0)
        ledger.delivered(seq: 1, clearance: .internal, now: 1)
        ledger.delivered(seq: 2, clearance: .internal, now: 2)
        ledger.passedOver()  // seq 3 withheld: a rule was revoked
        ledger.delivered(seq: 4, clearance: .internal, now: 4)
        let spans = ledger.take()
        #expect(spans.map { [$0.firstSeq, $0.lastSeq] } == [[1, 2], [4, 4]])
        #expect(spans.map(\.follows) == [false, false])
    }

    @Test func aChangeOfClearanceStartsAnotherRangeThatDoesNotFollow() {
        var ledger = ReceiptLedger(floor: 0, now: 0)
        ledger.delivered(seq: 1, clearance: .confidential, now: 1)
        ledger.delivered(seq: 2, clearance: .internal, now: 2)
        let spans = ledger.take()
        #expect(spans.map(\.clearance) == [.confidential, .internal])
        #expect(spans.map(\.follows) == [false, false])
    }

    @Test func theAckFloorsMovementIsOneRangeTimedFromItsLastObservation() {
        var ledger = ReceiptLedger(floor: 10, now: 500)
        ledger.observeFloor(10, clearance: .internal, now: 1_000)
        #expect(ledger.take().isEmpty)
        ledger.observeFloor(25, clearance: .internal, now: 2_000)
        #expect(
            ledger.take() == [
                Span(
                    kind: .floor,
                    firstSeq: 11,
                    lastSeq: 25,
                    firstAt: 1_000,
                    lastAt: 2_000,
                    clearance: .internal,
                    follows: true
                )
            ]
        )
        // A floor never goes back; an explicit ack at or below it is already covered.
        ledger.observeFloor(20, clearance: .internal, now: 3_000)
        ledger.acknowledged(seq: 24, clearance: .internal, extends: false, now: 3_000)
        #expect(ledger.take().isEmpty)
        #expect(ledger.recordedFloor == 25)
    }

    @Test func explicitAcksAboveTheFloorExtendOnlyWhenTheCallerSaysNothingLiesBetween() {
        var ledger = ReceiptLedger(floor: 0, now: 0)
        ledger.acknowledged(seq: 7, clearance: .internal, extends: false, now: 1)
        #expect(ledger.openAckEnd == 7)
        ledger.acknowledged(seq: 8, clearance: .internal, extends: true, now: 2)
        ledger.acknowledged(seq: 12, clearance: .internal, extends: false, now: 3)
        let spans = ledger.take()
        #expect(spans.map { [$0.firstSeq, $0.lastSeq] } == [[7, 8], [12, 12]])
        #expect(spans.allSatisfy { $0.event == .acked && $0.kind == .explicitAck })
    }

    // MARK: - The queue under back-pressure

    private static func range(_ first: Int64, _ last: Int64, clearance: Classification = .internal) -> ReceiptRange {
        ReceiptRange(
            account: "office",
            consumer: nil,
            connection: "c1/127.0.0.1:1",
            subscription: "s",
            pattern: ">",
            clearance: clearance,
            event: .delivered,
            firstSeq: first,
            lastSeq: last,
            firstAt: Date(timeIntervalSince1970: Double(first)),
            lastAt: Date(timeIntervalSince1970: Double(last))
        )
    }

    private static let key = ReceiptQueue.MergeKey(subscriptionID: 1, kind: .inOrder)

    @Test func whileWritesFailASubscriptionsFollowingRangesWidenOneEntryInsteadOfQueuingMore() {
        var queue = ReceiptQueue(capacity: 10)
        queue.add(Self.range(1, 5), key: Self.key, follows: false)
        let failed = queue.take()
        for n in 0..<100 as Range<Int64> {
            queue.add(Self.range(6 + 2 * n, 7 + 2 * n), key: Self.key, follows: true)
        }
        queue.restore(failed)
        #expect(queue.entries.count == 1)
        #expect(queue.entries[0].range.firstSeq == 1 && queue.entries[0].range.lastSeq == 205)
        #expect(queue.entries[0].range.firstAt == Date(timeIntervalSince1970: 1))
        #expect(queue.entries[0].range.lastAt == Date(timeIntervalSince1970: 205))
        #expect(queue.dropped == 0)
    }

    @Test func rangesThatDoNotFollowOrAreAheadOrOfAnotherClearanceAreNeverMerged() {
        var queue = ReceiptQueue(capacity: 10)
        queue.add(Self.range(1, 5), key: Self.key, follows: false)
        queue.add(Self.range(8, 9), key: Self.key, follows: false)  // a gap between
        queue.add(Self.range(10, 10), key: nil, follows: false)  // ahead
        queue.add(Self.range(11, 12, clearance: .public), key: Self.key, follows: true)
        #expect(
            queue.entries.map { [$0.range.firstSeq, $0.range.lastSeq] } == [[1, 5], [8, 9], [10, 10], [11, 12]]
        )
        // A restore keeps each entry's own `follows`: the gap stays a gap.
        let taken = queue.take()
        queue.restore(taken)
        #expect(queue.entries.count == 4)
    }

    @Test func pastItsCapacityTheQueueDropsAndCountsWhatItCannotMergeButStillMerges() {
        var queue = ReceiptQueue(capacity: 2)
        queue.add(Self.range(1, 1), key: Self.key, follows: false)
        queue.add(Self.range(2, 2), key: nil, follows: false)
        queue.add(Self.range(3, 3), key: nil, follows: false)
        queue.add(Self.range(4, 4), key: Self.key, follows: true)
        #expect(queue.dropped == 1)
        #expect(queue.entries.map { [$0.range.firstSeq, $0.range.lastSeq] } == [[1, 4], [2, 2]])
    }

    @Test func theRecorderKeepsAndMergesASubscriptionsRangesWhileTheStoreFails() async {
        // ScriptedStorage refuses every recordReceipts: the database is down.
        let recorder = ReceiptRecorder(
            storage: ScriptedStorage(),
            settings: ReceiptSettings(),
            logger: .init(label: "t")
        )
        let identity = ReceiptIdentity(
            subscriptionID: 9,
            account: "office",
            consumer: nil,
            connection: "c1/127.0.0.1:1",
            sid: "s",
            pattern: ">"
        )
        var ledger = ReceiptLedger(floor: 0, now: 0)
        var failures = 0
        for round in 0..<50 as Range<Int64> {
            for seq in (round * 10 + 1)...(round * 10 + 10) {
                ledger.delivered(seq: seq, clearance: .internal, now: seq)
            }
            recorder.record([ReceiptBatch(identity: identity, spans: ledger.take())], now: 1_000)
            failures = await recorder.flush(failures: failures)
        }
        #expect(failures == 50)
        #expect(recorder.queued == 1)
        #expect(recorder.dropped == 0)
    }
}
