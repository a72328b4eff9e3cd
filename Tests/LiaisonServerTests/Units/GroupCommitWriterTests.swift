import Foundation
import LiaisonCore
import LiaisonStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import LiaisonServer

/// The group-commit writer against a scripted store: every publish gets the true answer, and a
/// committed row always reaches the router, whatever the database connection did mid-commit.
@Suite struct GroupCommitWriterTests {
    /// Collects what the router delivers, like a subscriber to `>`.
    final class Collector: MessageSink {
        let eventLoop: any EventLoop
        private let seqs = NIOLockedValueBox<[Int64]>([])
        init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }
        func deliver(_ deliveries: [Delivery]) {
            self.seqs.withLockedValue { $0 += deliveries.map(\.message.seq) }
        }
        var delivered: [Int64] { self.seqs.withLockedValue { $0 } }
    }

    /// Monotonic milliseconds that move only when a test says: deadlines without timing.
    final class ManualClock: Sendable {
        private let now = NIOLockedValueBox<Int64>(0)
        var milliseconds: Int64 { self.now.withLockedValue { $0 } }
        func set(_ milliseconds: Int64) { self.now.withLockedValue { $0 = milliseconds } }
    }

    /// A writer running on a scripted store and a manual clock, with a collector subscribed to `>`.
    struct Rig {
        let storage: ScriptedStorage
        let writer: GroupCommitWriter
        let collector: Collector
        let clock = ManualClock()
        let loop = MultiThreadedEventLoopGroup.singleton.next()

        /// - Parameters:
        ///   - timeoutMilliseconds: The publish timeout, on ``clock``.
        ///   - resolveRetryMilliseconds: The idle writer's first pause before it looks up a batch
        ///     in doubt again (real time).
        ///   - inFlightBatches: Batches the writer may keep in flight at once.
        init(
            _ steps: [ScriptedStorage.Step],
            timeoutMilliseconds: Int64 = 1_500,
            resolveRetryMilliseconds: Int64 = 250,
            inFlightBatches: Int = 1
        ) throws {
            self.storage = ScriptedStorage(steps)
            let router = Router()
            self.collector = Collector(self.loop)
            router.subscribe(try TopicPattern(">"), sid: "s", subscriptionID: 1, sink: self.collector)
            var logger = Logger(label: "test.writer")
            logger.logLevel = .critical
            self.writer = GroupCommitWriter(
                storage: self.storage,
                router: router,
                logger: logger,
                timeoutMilliseconds: timeoutMilliseconds,
                inFlightBatches: inFlightBatches,
                resolveRetryMilliseconds: resolveRetryMilliseconds,
                clock: { [clock] in clock.milliseconds }
            )
        }

        /// Submits `count` publishes at once; their answers arrive in the returned box.
        func submit(_ count: Int, tag: String = "m") throws -> Answers {
            let answers = Answers(count)
            for index in 0..<count {
                let message = NewMessage(
                    topic: try Topic("hq.test"),
                    account: "ohchr",
                    headers: Headers(),
                    payload: Array("\(tag)\(index)".utf8)
                )
                self.writer.submit(message, on: self.loop) { answers.set(index, $0) }
            }
            return answers
        }

        /// Runs the writer while `body` runs, then stops it.
        func running(_ body: () async throws -> Void) async throws {
            let task = Task { await self.writer.run() }
            defer {
                self.storage.release()
                task.cancel()
            }
            try await body()
        }
    }

    /// Answers to a set of publishes, filled in by the writer's completions.
    final class Answers: Sendable {
        private let results: NIOLockedValueBox<[Result<GroupCommitWriter.Outcome, PublishFailure>?]>
        init(_ count: Int) { self.results = NIOLockedValueBox(Array(repeating: nil, count: count)) }
        func set(_ index: Int, _ result: Result<GroupCommitWriter.Outcome, PublishFailure>) {
            self.results.withLockedValue { $0[index] = result }
        }

        /// Waits (up to 60 s) until every publish is answered. It looks once more after the
        /// deadline: on a loaded 2-core CI machine this task can be resumed late, and an answer
        /// that came meanwhile is still the writer's answer.
        func all() async throws -> [Result<GroupCommitWriter.Outcome, PublishFailure>] {
            let deadline = ContinuousClock.now + .seconds(60)
            while true {
                let results = self.results.withLockedValue { $0 }
                if results.allSatisfy({ $0 != nil }) { return results.map { $0! } }
                if ContinuousClock.now >= deadline { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            Issue.record("not every publish was answered")
            return []
        }

        /// The seqs of the publishes answered `OK PUB`, in submission order.
        func seqs() async throws -> [Int64] {
            try await self.all().compactMap { try? $0.get().seq }
        }
    }

    /// Waits (up to 60 s) until the collector holds `count` seqs.
    static func delivered(_ collector: Collector, count: Int) async throws -> [Int64] {
        let deadline = ContinuousClock.now + .seconds(60)
        while collector.delivered.count < count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        return collector.delivered
    }

    @Test func committedPublishesAreAnsweredWithTheirSeqsAndRouted() async throws {
        let rig = try Rig([.commit])
        let answers = try rig.submit(3)
        try await rig.running { () async throws in
            #expect(try await answers.seqs() == [1, 2, 3])
            #expect(try await Self.delivered(rig.collector, count: 3) == [1, 2, 3])
        }
        #expect(rig.storage.appendCalls.count == 1)
    }

    @Test func aBatchThatCommittedBeforeTheConnectionDiedIsAnsweredOKAndRouted() async throws {
        let rig = try Rig([.commitThenLoseConnection])
        let answers = try rig.submit(2)
        try await rig.running { () async throws in
            #expect(try await answers.seqs() == [1, 2])
            #expect(try await Self.delivered(rig.collector, count: 2) == [1, 2])
        }
        #expect(rig.storage.resolveCalls >= 1)
    }

    @Test func aBatchLostBeforeItsCommitIsAnsweredNotStoredAndNeverRouted() async throws {
        let rig = try Rig([.loseConnectionBeforeCommit])
        let answers = try rig.submit(2)
        try await rig.running { () async throws in
            let results = try await answers.all()
            #expect(results == Array(repeating: .failure(.notStored("connection lost before commit")), count: 2))
        }
        #expect(rig.collector.delivered.isEmpty)
    }

    @Test func anUnresolvableBatchIsAnsweredOutcomeUnknownAndResolvedBeforeTheNextCommits() async throws {
        // No lookups of its own while idle: this is about the lookup before the next batch.
        let rig = try Rig([.commitThenLoseConnection, .commit], resolveRetryMilliseconds: 3_600_000)
        rig.storage.setResolveFails(true)
        try await rig.running { () async throws in
            let first = try rig.submit(2, tag: "a")
            // Looked up until its deadline (1 500 ms on the clock) passes, then the truth: unknown.
            try await rig.storage.wait { $0.resolveCalls >= 1 }
            rig.clock.set(2_000)
            #expect(try await first.all() == [.failure(.outcomeUnknown), .failure(.outcomeUnknown)])
            // While the earlier batch is unknown nothing else may commit: it would be routed first.
            let blocked = try rig.submit(1, tag: "b")
            let calls = rig.storage.resolveCalls
            try await rig.storage.wait { $0.resolveCalls > calls }
            rig.clock.set(4_000)
            #expect(try await blocked.all() == [.failure(.notStored("database unavailable"))])
            #expect(rig.storage.appendCalls.count == 1)
            // The database is back: the in-doubt batch is found committed and routed, then the next.
            rig.storage.setResolveFails(false)
            let next = try rig.submit(1, tag: "c")
            #expect(try await next.seqs() == [3])
            #expect(try await Self.delivered(rig.collector, count: 3) == [1, 2, 3])
        }
    }

    @Test func aBatchInDoubtIsRoutedAsSoonAsItIsKnownCommittedWithoutAnotherPublish() async throws {
        let rig = try Rig([.commitThenLoseConnection])
        rig.storage.setResolveFails(true)
        try await rig.running { () async throws in
            let answers = try rig.submit(2)
            try await rig.storage.wait { $0.resolveCalls >= 1 }
            rig.clock.set(2_000)
            #expect(try await answers.all() == [.failure(.outcomeUnknown), .failure(.outcomeUnknown)])
            // The writer keeps looking by itself while the store cannot answer...
            let calls = rig.storage.resolveCalls
            try await rig.storage.wait { $0.resolveCalls >= calls + 2 }
            #expect(rig.storage.resolveCalls >= calls + 2)
            #expect(rig.collector.delivered.isEmpty)
            // ...and routes the committed batch once it can, though nothing else was published.
            rig.storage.setResolveFails(false)
            #expect(try await Self.delivered(rig.collector, count: 2) == [1, 2])
        }
        #expect(rig.storage.appendCalls.count == 1)
    }

    @Test func publishesStillQueuedAtTheirDeadlineAreAnsweredNotStored() async throws {
        // The first batch's call returns only after the deadline of what queued behind it, which
        // therefore never reached the database.
        let rig = try Rig([.block])
        try await rig.running { () async throws in
            let first = try rig.submit(1, tag: "a")
            try await rig.storage.wait { $0.appendCalls.count == 1 }
            rig.clock.set(100)
            let queued = try rig.submit(2, tag: "b")
            rig.clock.set(5_000)
            rig.storage.release()
            let expected = PublishFailure.notStored("waited longer than the publish timeout for the database")
            #expect(try await queued.all() == [.failure(expected), .failure(expected)])
            #expect(try await first.all() == [.failure(.outcomeUnknown)])
        }
        #expect(rig.storage.appendCalls.count == 1)
        #expect(rig.collector.delivered.isEmpty)
    }

    @Test func aRefusedBatchIsRetriedRowByRowSoOnlyThePoisonedRowFails() async throws {
        // The batch of 3 is refused; then rows 1 and 3 commit and row 2 is refused again.
        let rig = try Rig([.refuse, .commit, .refuse, .commit])
        let answers = try rig.submit(3)
        try await rig.running { () async throws in
            let results = try await answers.all()
            #expect(try results[0].get().seq == 1)
            #expect(results[1] == .failure(.notStored("refused by a constraint")))
            #expect(try results[2].get().seq == 2)
            #expect(try await Self.delivered(rig.collector, count: 2) == [1, 2])
        }
        #expect(rig.storage.appendCalls.map(\.count) == [3, 1, 1, 1])
    }

    /// The row-by-row retry of a refused batch stops at a row whose commit is interrupted and
    /// stays in doubt: the rows after it were never sent and are answered "not stored" at once,
    /// not left to the session's publish timeout.
    @Test func rowsNeverSentAfterARetriedRowWentInDoubtAreAnsweredNotStored() async throws {
        let rig = try Rig([.refuse, .commitThenLoseConnection])
        rig.storage.setResolveFails(true)
        let answers = try rig.submit(3)
        try await rig.running { () async throws in
            try await rig.storage.wait { $0.resolveCalls >= 1 }
            rig.clock.set(2_000)
            let results = try await answers.all()
            #expect(results[0] == .failure(.outcomeUnknown))
            #expect(results[1] == .failure(.notStored("database unavailable")))
            #expect(results[2] == .failure(.notStored("database unavailable")))
        }
        #expect(rig.storage.appendCalls.map(\.count) == [3, 1])
    }
}
