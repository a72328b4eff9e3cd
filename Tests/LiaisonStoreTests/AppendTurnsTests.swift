import Foundation
import Testing

@testable import LiaisonStore

/// The order in which pipelined batches take the append lock: their tokens' order, whatever
/// order their threads reach the gate in.
@Suite struct AppendTurnsTests {
    @Test func aLaterBatchWaitsForTheOneBeforeIt() async throws {
        let turns = AppendTurns()
        #expect(turns.waitForTurn(100, until: .now + .seconds(1)))
        let order = LockedOrder()
        let later = Thread {
            if turns.waitForTurn(101, until: .now + .seconds(30)) { order.append(101) }
        }
        later.start()
        try await Task.sleep(for: .milliseconds(100))
        #expect(order.values.isEmpty)
        order.append(100)
        turns.finish(100)
        try await order.wait(count: 2)
        #expect(order.values == [100, 101])
    }

    @Test func aBatchWhoseTurnNeverComesGivesUpAtItsDeadline() {
        let turns = AppendTurns()
        #expect(turns.waitForTurn(7, until: .now + .seconds(1)))
        #expect(!turns.waitForTurn(9, until: .now + .milliseconds(50)))
    }

    @Test func aBatchGivenUpBeforeItsTurnIsNeverSentAndDoesNotHoldUpTheNext() {
        let turns = AppendTurns()
        #expect(turns.waitForTurn(1, until: .now + .seconds(1)))
        turns.finish(2)  // its caller's deadline passed while it was queued
        #expect(!turns.waitForTurn(2, until: .now + .seconds(1)))
        turns.finish(1)
        #expect(turns.waitForTurn(3, until: .now + .milliseconds(100)))
    }

    final class LockedOrder: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [Int64] = []
        func append(_ value: Int64) { self.lock.withLock { self.list.append(value) } }
        var values: [Int64] { self.lock.withLock { self.list } }
        func wait(count: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            while self.values.count < count && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }
}
