import Foundation
import LiaisonCore
import TestSupport
import Testing

@testable import LiaisonServer

/// The log sequencer without sockets or a database: events in, actions out. Each test starts a
/// sequencer at a known head and checks what it routes and which ranges it asks to read.
@Suite struct LogSequencerTests {
    private typealias Action = LogSequencer.Action

    private static func messages(_ seqs: ClosedRange<Int64>) -> [Message] {
        seqs.map { MachineHarness.message($0) }
    }

    private static func messages(_ seqs: [Int64]) -> [Message] {
        seqs.map { MachineHarness.message($0) }
    }

    /// A sequencer that has read the head `head`.
    private static func started(head: Int64, pageSize: Int = 1_000) -> LogSequencer {
        var sequencer = LogSequencer(pageSize: pageSize)
        #expect(sequencer.start() == [.readHead])
        #expect(sequencer.headRead(head).isEmpty)
        return sequencer
    }

    /// One append of this daemon's writer that stored `seqs`.
    private static func append(_ sequencer: inout LogSequencer, _ seqs: ClosedRange<Int64>) -> [Action] {
        sequencer.appendStarted()
        return sequencer.appendEnded(stored: Self.messages(seqs))
    }

    @Test func contiguousLocalBatchesAreRoutedAtOnceWithoutAnyRead() {
        var sequencer = Self.started(head: 10)
        #expect(Self.append(&sequencer, 11...13) == [.route(Self.messages(11...13))])
        #expect(Self.append(&sequencer, 14...14) == [.route(Self.messages(14...14))])
        #expect(Self.append(&sequencer, 15...40) == [.route(Self.messages(15...40))])
        #expect(sequencer.released == 40)
    }

    @Test func aRemoteGapBelowALocalBatchIsReadAndRoutedFirst() {
        var sequencer = Self.started(head: 10)
        // Another daemon stored 11...13: our batch waits while the range below it is read.
        #expect(Self.append(&sequencer, 14...15) == [.read(after: 10, before: 14)])
        #expect(sequencer.heldCount == 2)
        #expect(sequencer.pageRead(Self.messages(11...13)) == [.route(Self.messages(11...15))])
        #expect(sequencer.released == 15)
        #expect(sequencer.heldCount == 0)
    }

    @Test func aRolledBackSeqLeavesAGapThatOneEmptyReadSettles() {
        var sequencer = Self.started(head: 10)
        // Seq 11 was taken by a transaction that rolled back: it never appears.
        #expect(Self.append(&sequencer, 12...12) == [.read(after: 10, before: 12)])
        #expect(sequencer.pageRead([]) == [.route(Self.messages(12...12))])
        #expect(Self.append(&sequencer, 13...13) == [.route(Self.messages(13...13))])
    }

    @Test func batchesArrivingWhileAGapIsReadWaitInSeqOrder() {
        var sequencer = Self.started(head: 10)
        #expect(Self.append(&sequencer, 12...12) == [.read(after: 10, before: 12)])
        // One read at a time: these wait, the second behind another gap (seq 14).
        #expect(Self.append(&sequencer, 13...13).isEmpty)
        #expect(Self.append(&sequencer, 15...16).isEmpty)
        #expect(
            sequencer.pageRead(Self.messages([11])) == [.route(Self.messages(11...13)), .read(after: 13, before: 15)]
        )
        #expect(sequencer.pageRead(Self.messages([14])) == [.route(Self.messages(14...16))])
    }

    @Test func anOpenPageOverlappingLocalBatchesRoutesEachSeqOnce() {
        var sequencer = Self.started(head: 10)
        #expect(sequencer.notified(lastSeq: 12) == [.read(after: 10, before: nil)])
        // While the read is out, our batch 13...14 commits: the rows 11...12 below are unknown yet.
        #expect(Self.append(&sequencer, 13...14).isEmpty)
        // The page saw our rows too (and one more of another daemon's): each is routed once.
        #expect(sequencer.pageRead(Self.messages(11...15)) == [.route(Self.messages(11...15))])
        #expect(sequencer.heldCount == 0)
        // A local batch that follows on contiguously is routed at once again.
        #expect(Self.append(&sequencer, 16...16) == [.route(Self.messages(16...16))])
    }

    @Test func aContiguousLocalBatchDuringAnOpenReadIsRoutedAndThePageSkipsIt() {
        var sequencer = Self.started(head: 10)
        #expect(sequencer.pollDue() == [.read(after: 10, before: nil)])
        #expect(Self.append(&sequencer, 11...12) == [.route(Self.messages(11...12))])
        #expect(sequencer.pageRead(Self.messages(11...13)) == [.route(Self.messages(13...13))])
        #expect(sequencer.released == 13)
    }

    @Test func ourOwnNotificationCostsNoRead() {
        var sequencer = Self.started(head: 10)
        sequencer.appendStarted()
        // The notification of the batch in flight arrives before the writer hands it over.
        #expect(sequencer.notified(lastSeq: 12).isEmpty)
        #expect(sequencer.appendEnded(stored: Self.messages(11...12)) == [.route(Self.messages(11...12))])
        // And one that arrives after it: at or below what was released.
        #expect(sequencer.notified(lastSeq: 12).isEmpty)
    }

    @Test func anotherDaemonsNotificationDuringOurAppendIsReadAfterIt() {
        var sequencer = Self.started(head: 10)
        sequencer.appendStarted()
        #expect(sequencer.notified(lastSeq: 20).isEmpty)
        #expect(
            sequencer.appendEnded(stored: Self.messages(11...12))
                == [.route(Self.messages(11...12)), .read(after: 12, before: nil)]
        )
        #expect(sequencer.pageRead(Self.messages(13...20)) == [.route(Self.messages(13...20))])
        // An idle poll finds nothing and asks for nothing more.
        #expect(sequencer.pollDue() == [.read(after: 20, before: nil)])
        #expect(sequencer.pageRead([]).isEmpty)
    }

    @Test func aFullPageIsFollowedByTheNextOne() {
        var sequencer = Self.started(head: 10, pageSize: 2)
        #expect(Self.append(&sequencer, 16...16) == [.read(after: 10, before: 16)])
        #expect(
            sequencer.pageRead(Self.messages(11...12)) == [
                .route(Self.messages(11...12)), .read(after: 12, before: 16),
            ]
        )
        #expect(
            sequencer.pageRead(Self.messages(13...14)) == [
                .route(Self.messages(13...14)), .read(after: 14, before: 16),
            ]
        )
        // Seq 15 rolled back: a short page settles the range up to the held batch.
        #expect(sequencer.pageRead([]) == [.route(Self.messages(16...16))])
        #expect(sequencer.pollDue() == [.read(after: 16, before: nil)])
        #expect(
            sequencer.pageRead(Self.messages(17...18)) == [
                .route(Self.messages(17...18)), .read(after: 18, before: nil),
            ]
        )
        #expect(sequencer.pageRead([]).isEmpty)
    }

    @Test func aFailedReadHoldsLocalBatchesUntilAPollRetriesFromTheReleasedSeq() {
        var sequencer = Self.started(head: 10)
        #expect(Self.append(&sequencer, 13...13) == [.read(after: 10, before: 13)])
        // The database went away (a reconnect follows): nothing is routed past the gap.
        sequencer.readFailed()
        #expect(Self.append(&sequencer, 14...14).isEmpty)
        #expect(sequencer.heldCount == 2)
        #expect(sequencer.pollDue() == [.read(after: 10, before: 13)])
        #expect(
            sequencer.pageRead(Self.messages(11...12)) == [
                .route(Self.messages(11...14)), .read(after: 14, before: nil),
            ]
        )
        #expect(sequencer.pageRead([]).isEmpty)
    }

    @Test func localBatchesCommittedBeforeTheHeadReadAreStillRouted() {
        var sequencer = LogSequencer()
        #expect(sequencer.start() == [.readHead])
        #expect(Self.append(&sequencer, 5...6).isEmpty)
        // The head read saw them (and 7...8 of another daemon, read at the next poll).
        #expect(sequencer.headRead(8) == [.route(Self.messages(5...6))])
        #expect(sequencer.pollDue() == [.read(after: 6, before: nil)])
        #expect(sequencer.pageRead(Self.messages(7...8)) == [.route(Self.messages(7...8))])
    }

    @Test func aFailedHeadReadIsRetriedAtThePoll() {
        var sequencer = LogSequencer()
        #expect(sequencer.start() == [.readHead])
        sequencer.readFailed()
        // Not retried at every notification during an outage: at the next poll.
        #expect(sequencer.notified(lastSeq: 3).isEmpty)
        #expect(sequencer.pollDue() == [.readHead])
        #expect(sequencer.headRead(3) == [.read(after: 3, before: nil)])
        #expect(sequencer.released == 3)
    }

    @Test func aBatchInDoubtThatTheFollowerRoutedFirstIsNotRoutedAgain() {
        var sequencer = Self.started(head: 10)
        sequencer.appendStarted()
        // The commit's answer was lost (outcome unknown); a poll then finds its rows in the log.
        #expect(sequencer.appendEnded(stored: []).isEmpty)
        #expect(sequencer.pollDue() == [.read(after: 10, before: nil)])
        #expect(sequencer.pageRead(Self.messages(11...12)) == [.route(Self.messages(11...12))])
        // The writer's look-up says it committed: nothing more to route.
        #expect(sequencer.committed(Self.messages(11...12)).isEmpty)
    }

    /// Two daemons' worth of commits, rollbacks, notifications, polls and reads in a seeded
    /// random order: what is routed is exactly every committed seq past the head, ascending.
    @Test(arguments: 1...20 as ClosedRange<UInt64>)
    func randomInterleavingsRouteEveryCommittedSeqOnceInOrder(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var log: [Int64: Message] = [:]
        var nextSeq: Int64 = 1
        var sequencer = LogSequencer(pageSize: 3)
        var routed: [Int64] = []
        var pendingReads: [Action] = []
        var localInFlight: [Message]? = nil
        var localStarted = false

        func apply(_ actions: [Action]) {
            for action in actions {
                if case .route(let messages) = action {
                    routed += messages.map(\.seq)
                } else {
                    pendingReads.append(action)
                }
            }
        }
        func commit(_ count: Int) -> [Message] {
            let stored = (0..<count).map { MachineHarness.message(nextSeq + Int64($0)) }
            for message in stored { log[message.seq] = message }
            nextSeq += Int64(count)
            return stored
        }
        func answerRead() {
            guard !pendingReads.isEmpty else { return }
            let read = pendingReads.removeFirst()
            switch read {
            case .readHead:
                apply(sequencer.headRead(nextSeq - 1))
            case .read(let after, let before):
                if random.next() % 5 == 0 {
                    sequencer.readFailed()
                    return
                }
                let rows = log.keys.filter { $0 > after && $0 < (before ?? .max) }.sorted().prefix(3)
                apply(sequencer.pageRead(rows.map { log[$0]! }))
            case .route:
                break
            }
        }

        apply(sequencer.start())
        answerRead()  // the head: an empty log
        for _ in 0..<400 {
            switch random.next() % 8 {
            case 0:
                // Another daemon commits, maybe notifying.
                let stored = commit(Int(random.next() % 3) + 1)
                if random.next() % 2 == 0 { apply(sequencer.notified(lastSeq: stored.last!.seq)) }
            case 1:
                // A rolled-back transaction burns seqs.
                nextSeq += Int64(random.next() % 2) + 1
            case 2 where !localStarted:
                sequencer.appendStarted()
                localStarted = true
            case 3 where localStarted && localInFlight == nil:
                localInFlight = commit(Int(random.next() % 4))
                if let last = localInFlight?.last, random.next() % 2 == 0 {
                    apply(sequencer.notified(lastSeq: last.seq))
                }
            case 4 where localInFlight != nil:
                apply(sequencer.appendEnded(stored: localInFlight ?? []))
                localInFlight = nil
                localStarted = false
            case 5:
                apply(sequencer.pollDue())
            default:
                answerRead()
            }
        }
        if let stored = localInFlight { apply(sequencer.appendEnded(stored: stored)) }
        if localStarted && localInFlight == nil { apply(sequencer.appendEnded(stored: [])) }
        // Quiesce: polls and answers until nothing is asked for.
        for _ in 0..<1_000 {
            if pendingReads.isEmpty { apply(sequencer.pollDue()) }
            if pendingReads.isEmpty { break }
            answerRead()
        }
        #expect(routed == log.keys.sorted())
        #expect(zip(routed, routed.dropFirst()).allSatisfy { $0 < $1 })
        #expect(sequencer.heldCount == 0)
    }
}
