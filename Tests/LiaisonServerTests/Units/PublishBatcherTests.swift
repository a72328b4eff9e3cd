import LiaisonCore
import LiaisonStore
import Testing

@testable import LiaisonServer

/// The writer's queue without threads: batches respect the count and byte budgets, oldest first,
/// and nothing past its publish deadline is ever sent.
@Suite struct PublishBatcherTests {
    private func message(bytes: Int) throws -> NewMessage {
        NewMessage(
            topic: try Topic("hq.test"),
            account: "ohchr",
            headers: Headers(),
            payload: Array(repeating: 0x61, count: bytes)
        )
    }

    @Test func batchesStopAtTheCountAndTheByteBudgetButALargeMessageStillGoesAlone() throws {
        var batcher = PublishBatcher<Int>(maxBatchCount: 3, maxBatchBytes: 100, timeoutMilliseconds: 1_000)
        for (index, bytes) in [10, 10, 10, 10, 60, 60, 500, 1].enumerated() {
            batcher.enqueue(try self.message(bytes: bytes), now: 0, reply: index)
        }
        var batches: [[Int]] = []
        while !batcher.isEmpty {
            batches.append(batcher.takeBatch(now: 1).batch.map(\.reply))
        }
        #expect(batches == [[0, 1, 2], [3, 4], [5], [6], [7]])
        #expect(batcher.queuedBytes == 0)
    }

    @Test func publishesPastTheirDeadlineAreExpiredNotSent() throws {
        var batcher = PublishBatcher<Int>(maxBatchCount: 10, maxBatchBytes: 1_000, timeoutMilliseconds: 100)
        batcher.enqueue(try self.message(bytes: 1), now: 0, reply: 0)
        batcher.enqueue(try self.message(bytes: 1), now: 50, reply: 1)
        batcher.enqueue(try self.message(bytes: 1), now: 120, reply: 2)
        #expect(batcher.oldestDeadline == 100)
        let (batch, expired) = batcher.takeBatch(now: 150)
        #expect(expired.map(\.reply) == [0, 1])
        #expect(batch.map(\.reply) == [2])
        #expect(batcher.isEmpty && batcher.oldestDeadline == nil)
    }
}
