import Foundation
import LiaisonCore
import Testing

@testable import LiaisonServer

@Suite struct SubscriptionStateTests {
    private func message(_ seq: Int64, _ topic: String = "a.b", bytes: Int = 10) throws -> Message {
        Message(
            seq: seq,
            topic: try Topic(topic),
            account: "x",
            publishedAt: Date(timeIntervalSince1970: 0),
            headers: Headers(),
            payload: Array(repeating: 0, count: bytes)
        )
    }

    private func seqs(_ action: SubscriptionState.Action) -> [Int64] {
        switch action {
        case .none: return []
        case .deliver(let m): return m.map(\.seq)
        case .deliverThenRead(let m, _): return m.map(\.seq)
        }
    }

    @Test func replayThenLiveWithOverlapDeliversEachSeqOnce() throws {
        var state = SubscriptionState(
            sid: "s",
            subscriptionID: 1,
            pattern: try TopicPattern("a.>"),
            replayAfter: 4,
            holdBudget: 1000
        )
        // Live messages arrive while the first page is read: held.
        #expect(state.live(try message(9), canWrite: true) == .none)
        #expect(state.live(try message(10), canWrite: true) == .none)
        // A full page (isLast false) overlapping nothing yet.
        let first = state.page([try message(5), try message(6)], isLast: false, canWrite: true)
        #expect(first == .deliverThenRead([try message(5), try message(6)], after: 6))
        // The last page overlaps the held ones: 9 is delivered once.
        let last = state.page([try message(7), try message(9)], isLast: true, canWrite: true)
        #expect(seqs(last) == [7, 9, 10])
        #expect(state.isLive)
        #expect(state.live(try message(10), canWrite: true) == .none)
        #expect(seqs(state.live(try message(11), canWrite: true)) == [11])
    }

    @Test func overflowWhileCatchingUpReadsAgainInsteadOfHolding() throws {
        var state = SubscriptionState(
            sid: "s",
            subscriptionID: 1,
            pattern: try TopicPattern("a.>"),
            replayAfter: 0,
            holdBudget: 25
        )
        _ = state.live(try message(3), canWrite: true)
        _ = state.live(try message(4), canWrite: true)
        _ = state.live(try message(5), canWrite: true)  // 30 bytes > 25: dropped, must re-read
        let page = state.page([try message(1), try message(2)], isLast: true, canWrite: true)
        #expect(page == .deliverThenRead([try message(1), try message(2)], after: 2))
        #expect(!state.isLive)
        let again = state.page([try message(3), try message(4), try message(5)], isLast: true, canWrite: true)
        #expect(seqs(again) == [3, 4, 5])
        #expect(state.isLive)
    }

    @Test func aSlowReaderSwitchesToTheLogAndResumesWhenWritable() throws {
        var state = SubscriptionState(sid: "s", subscriptionID: 1, pattern: try TopicPattern("a.>"), holdBudget: 1000)
        #expect(seqs(state.live(try message(1), canWrite: true)) == [1])
        #expect(state.live(try message(2), canWrite: false) == .none)
        #expect(!state.isLive)
        #expect(state.live(try message(3), canWrite: false) == .none)
        #expect(state.writable() == .deliverThenRead([], after: 1))
        #expect(seqs(state.page([try message(2), try message(3)], isLast: true, canWrite: true)) == [2, 3])
        #expect(state.isLive)
    }

    @Test func pagesOnlyDeliverWhatThePatternSelects() throws {
        var state = SubscriptionState(
            sid: "s",
            subscriptionID: 1,
            pattern: try TopicPattern("a.*"),
            replayAfter: 0,
            holdBudget: 1000
        )
        let action = state.page(
            [try message(1, "a.b"), try message(2, "a.b.c"), try message(3, "x.y")],
            isLast: true,
            canWrite: true
        )
        #expect(seqs(action) == [1])
    }
}
