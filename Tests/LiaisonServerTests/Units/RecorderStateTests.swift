import Foundation
import Testing

@testable import LiaisonServer

/// The recorder core without a database: nothing is lost on a failed write, memory is bounded,
/// and what could not be held is counted and handed over once.
@Suite struct RecorderStateTests {
    private typealias State = RecorderState<Int>
    private static let t0 = Date(timeIntervalSince1970: 1_750_000_000)

    private static func time(_ seconds: Double) -> Date { Self.t0.addingTimeInterval(seconds) }

    @Test func recordsWhileIdleWriteAtOnceAndOthersWaitForTheWriteInFlight() {
        var state = State(capacity: 10)
        #expect(state.record(1, kind: "a", at: Self.t0) == .write(batch: [1], dropped: nil))
        #expect(state.record(2, kind: "a", at: Self.t0) == .none)
        #expect(state.record(3, kind: "a", at: Self.t0) == .none)
        #expect(state.held == 3)
        #expect(state.writeSucceeded() == .write(batch: [2, 3], dropped: nil))
        #expect(state.writeSucceeded() == .none)
        #expect(state.held == 0)
    }

    @Test func aFailedWriteKeepsItsItemsInOrderAndRetriesWithGrowingBackoff() {
        var state = State(capacity: 10)
        _ = state.record(1, kind: "a", at: Self.t0)
        _ = state.record(2, kind: "a", at: Self.t0)
        #expect(state.writeSucceeded() == .write(batch: [2], dropped: nil))
        #expect(state.writeFailed() == .retry(after: .milliseconds(100), attempt: 1))
        // Recorded during the back-off: queued behind the failed batch, no write until the retry.
        #expect(state.record(3, kind: "a", at: Self.t0) == .none)
        #expect(state.retryDue() == .write(batch: [2, 3], dropped: nil))
        #expect(state.writeFailed() == .retry(after: .milliseconds(200), attempt: 2))
        #expect(state.retryDue() == .write(batch: [2, 3], dropped: nil))
        #expect(state.writeSucceeded() == .none)
        #expect(state.held == 0)
        #expect(state.unreported == nil)
    }

    @Test func backoffDoublesFrom100MillisecondsUpTo10Seconds() {
        let delays = (1...10).map { State.backoff(attempt: $0) }
        let expected: [Duration] = [100, 200, 400, 800, 1_600, 3_200, 6_400].map { .milliseconds($0) }
        #expect(Array(delays[0..<7]) == expected)
        #expect(delays[7...].allSatisfy { $0 == .seconds(10) })
    }

    @Test func beyondCapacityItemsAreCountedAndTheTallyTravelsWithTheNextSuccessfulWrite() {
        var state = State(capacity: 3, maxBatch: 2)
        #expect(state.record(1, kind: "a", at: Self.time(0)) == .write(batch: [1], dropped: nil))
        #expect(state.writeFailed() == .retry(after: .milliseconds(100), attempt: 1))
        #expect(state.record(2, kind: "a", at: Self.time(1)) == .none)
        #expect(state.record(3, kind: "a", at: Self.time(2)) == .none)
        // Full: the first drop asks to be logged once, the next ones are only counted.
        #expect(state.record(4, kind: "auth.failed", at: Self.time(3)) == .startedDropping(capacity: 3))
        #expect(state.record(5, kind: "pub.refused", at: Self.time(4)) == .none)
        #expect(state.record(6, kind: "auth.failed", at: Self.time(5)) == .none)
        #expect(state.held == 3)
        let tally = State.DropTally(
            count: 3,
            first: Self.time(3),
            last: Self.time(5),
            kinds: ["auth.failed": 2, "pub.refused": 1]
        )
        #expect(state.unreported == tally)
        #expect(tally.kindsText == "auth.failed 2, pub.refused 1")

        // The tally goes with the first write after the outage; a failure keeps it for the next.
        #expect(state.retryDue() == .write(batch: [1, 2], dropped: tally))
        #expect(state.writeFailed() == .retry(after: .milliseconds(200), attempt: 2))
        // Still the same outage's tally (the failed report went back into it): counted, not logged again.
        #expect(state.record(7, kind: "pub.refused", at: Self.time(6)) == .none)
        var grown = tally
        grown.count = 4
        grown.last = Self.time(6)
        grown.kinds["pub.refused"] = 2
        #expect(state.unreported == grown)
        #expect(state.retryDue() == .write(batch: [1, 2], dropped: grown))
        #expect(state.writeSucceeded() == .write(batch: [3], dropped: nil))
        #expect(state.unreported == nil)
        #expect(state.writeSucceeded() == .none)
    }

    @Test func dropsDuringAReportInFlightAreReportedByTheNextWrite() {
        var state = State(capacity: 1)
        _ = state.record(1, kind: "a", at: Self.time(0))
        #expect(state.record(2, kind: "b", at: Self.time(1)) == .startedDropping(capacity: 1))
        #expect(
            state.writeSucceeded()
                == .write(batch: [], dropped: .init(count: 1, first: Self.time(1), last: Self.time(1), kinds: ["b": 1]))
        )
        // Held is 0 now (the report is not an item), so this one is kept.
        #expect(state.record(3, kind: "c", at: Self.time(2)) == .none)
        #expect(state.writeSucceeded() == .write(batch: [3], dropped: nil))
        #expect(state.writeSucceeded() == .none)
    }
}
