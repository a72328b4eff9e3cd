import Testing

@testable import LiaisonServer

/// The writer with more than one batch in flight: the next batch goes to the store while the
/// previous one commits, and outcomes are still settled, routed and answered in seq order.
@Suite struct GroupCommitPipelineTests {
    typealias Rig = GroupCommitWriterTests.Rig

    /// With one batch in flight nothing else is sent until it returns; with two, the writer's
    /// very first batch still goes alone (the store learns the token order from it).
    @Test(arguments: [1, 2])
    func nothingElseIsSentUntilTheFirstBatchReturns(inFlightBatches: Int) async throws {
        let rig = try Rig([.commitAndHold, .commit], inFlightBatches: inFlightBatches)
        try await rig.running { () async throws in
            // One publish per batch sent while nothing is out: the loop may take a publish as
            // soon as it is queued, so a batch of two could go as two.
            let first = try rig.submit(1, tag: "a")
            try await rig.storage.wait { $0.appendCalls.count == 1 }
            let second = try rig.submit(2, tag: "b")
            // The second batch is queued, not sent: give the loop every chance to send it.
            try await Task.sleep(for: .milliseconds(200))
            #expect(rig.storage.appendCalls.count == 1)
            rig.storage.release()
            #expect(try await first.seqs() == [1])
            #expect(try await second.seqs() == [2, 3])
        }
        #expect(rig.storage.appendCalls.map(\.count) == [1, 2])
    }

    /// Commits one publish, seq 1, so the writer's next batches may overlap.
    static func warmUp(_ rig: Rig) async throws {
        #expect(try await rig.submit(1, tag: "w").seqs() == [1])
    }

    /// The next batch is sent while the previous one commits, and returns first; nothing is
    /// routed or answered past the batch still out. When that one's connection breaks after its
    /// commit, it is looked up, found, answered with its seq and routed first all the same.
    @Test(arguments: [ScriptedStorage.Step.commitAndHold, .commitHoldThenLoseConnection])
    func theNextBatchIsSentWhileThePreviousOneCommits(held: ScriptedStorage.Step) async throws {
        let rig = try Rig([.commit, held, .commit], inFlightBatches: 2)
        try await rig.running { () async throws in
            try await Self.warmUp(rig)
            let first = try rig.submit(1, tag: "a")
            try await rig.storage.wait { $0.appendCalls.count == 2 }
            let second = try rig.submit(1, tag: "b")
            try await rig.storage.wait { $0.appendCalls.count == 3 }
            try await Task.sleep(for: .milliseconds(100))
            #expect(rig.collector.delivered == [1])
            rig.storage.release()
            #expect(try await first.seqs() == [2])
            #expect(try await second.seqs() == [3])
            #expect(try await GroupCommitWriterTests.delivered(rig.collector, count: 3) == [1, 2, 3])
        }
        let lookedUp = rig.storage.resolveCalls >= 1
        #expect(lookedUp == (held == .commitHoldThenLoseConnection))
    }

    @Test func nothingNewIsSentWhileABatchStaysInDoubt() async throws {
        let rig = try Rig(
            [.commit, .commitThenLoseConnection, .commit],
            resolveRetryMilliseconds: 3_600_000,
            inFlightBatches: 2
        )
        try await rig.running { () async throws in
            try await Self.warmUp(rig)
            rig.storage.setResolveFails(true)
            let first = try rig.submit(1, tag: "a")
            try await rig.storage.wait { $0.resolveCalls >= 1 }
            rig.clock.set(2_000)
            #expect(try await first.all() == [.failure(.outcomeUnknown)])
            let blocked = try rig.submit(1, tag: "b")
            let calls = rig.storage.resolveCalls
            try await rig.storage.wait { $0.resolveCalls > calls }
            rig.clock.set(4_000)
            #expect(try await blocked.all() == [.failure(.notStored("database unavailable"))])
            #expect(rig.storage.appendCalls.count == 2)
            rig.storage.setResolveFails(false)
            let next = try rig.submit(1, tag: "c")
            #expect(try await next.seqs() == [3])
            #expect(try await GroupCommitWriterTests.delivered(rig.collector, count: 3) == [1, 2, 3])
        }
    }

    /// Two batches in flight, both interrupted after they committed, and the store unreachable
    /// until both were answered "outcome unknown": each is looked up in its turn once it is back,
    /// and both are routed, in seq order, before the next batch.
    @Test func twoBatchesInDoubtAreEachLookedUpInSendOrder() async throws {
        let rig = try Rig(
            [.commit, .commitHoldThenLoseConnection, .commitThenLoseConnection, .commit],
            resolveRetryMilliseconds: 3_600_000,
            inFlightBatches: 2
        )
        try await rig.running { () async throws in
            try await Self.warmUp(rig)
            rig.storage.setResolveFails(true)
            let first = try rig.submit(1, tag: "a")
            try await rig.storage.wait { $0.appendCalls.count == 2 }
            let second = try rig.submit(1, tag: "b")
            try await rig.storage.wait { $0.appendCalls.count == 3 }
            rig.storage.release()
            try await rig.storage.wait { $0.resolveCalls >= 1 }
            rig.clock.set(2_000)
            #expect(try await first.all() == [.failure(.outcomeUnknown)])
            #expect(try await second.all() == [.failure(.outcomeUnknown)])
            rig.storage.setResolveFails(false)
            let next = try rig.submit(1, tag: "c")
            #expect(try await next.seqs() == [4])
            #expect(try await GroupCommitWriterTests.delivered(rig.collector, count: 4) == [1, 2, 3, 4])
        }
    }
}
