import Testing

@testable import LiaisonClient

/// The follower's bookkeeping: in-order position, ahead seqs, duplicates, confirms.
@Suite struct DeliveryLedgerTests {
    private let start = ContinuousClock.now

    private func at(_ milliseconds: Int) -> ContinuousClock.Instant {
        self.start.advanced(by: .milliseconds(milliseconds))
    }

    /// Feeds `(seq, ahead)` pairs at time 0 and returns the seqs handed out.
    private func feed(_ ledger: inout DeliveryLedger, _ messages: [(Int64, Bool)], at time: Int = 0) -> [Int64] {
        messages.compactMap { seq, ahead in
            ledger.receive(seq: seq, isAhead: ahead, at: self.at(time)) == .deliver ? seq : nil
        }
    }

    @Test func theCumulativePositionNeverPassesAnAheadSeq() {
        var ledger = DeliveryLedger(policy: ConfirmPolicy(every: 3))
        #expect(self.feed(&ledger, [(1, false), (2, false), (900, true), (3, false)]) == [1, 2, 900, 3])
        #expect(ledger.position == 3)
        #expect(ledger.confirmDue(at: self.at(0)) == 3)
        #expect(ledger.finalConfirm == 3)
        #expect(ledger.resumeSeq == 4)
    }

    @Test func anAheadMessageAloneConfirmsNothing() {
        var ledger = DeliveryLedger(policy: ConfirmPolicy(every: 1))
        #expect(self.feed(&ledger, [(50, true)]) == [50])
        #expect(ledger.position == nil)
        #expect(ledger.confirmDue(at: self.at(10_000)) == nil)
        #expect(ledger.finalConfirm == nil)
        #expect(ledger.resumeSeq == nil)
    }

    @Test func aheadSeqsArePrunedOnceThePositionPassesThem() {
        var ledger = DeliveryLedger(policy: ConfirmPolicy())
        _ = self.feed(&ledger, [(1, false), (5, true), (9, true)])
        #expect(ledger.ahead == [5, 9])
        // The in-order stream reaches 5: it is a duplicate (handed out ahead) but moves the position.
        #expect(self.feed(&ledger, [(2, false), (3, false), (4, false), (5, false), (6, false)]) == [2, 3, 4, 6])
        #expect(ledger.position == 6)
        #expect(ledger.ahead == [9])
        #expect(self.feed(&ledger, [(10, false)]) == [10])
        #expect(ledger.ahead.isEmpty)
    }

    @Test func duplicatesAreFilteredAcrossASimulatedReconnect() {
        var ledger = DeliveryLedger(policy: ConfirmPolicy())
        let before = self.feed(&ledger, [(1, false), (2, false), (7, true), (3, false)])
        ledger.confirmSent(2)
        ledger.reconnected()
        // The server resumes after its confirmed position 2: 3 again, then on; 7 comes in order.
        let after = self.feed(
            &ledger,
            [(3, false), (4, false), (7, true), (5, false), (6, false), (7, false), (8, false)]
        )
        #expect(before == [1, 2, 7, 3])
        #expect(after == [4, 5, 6, 8])
        #expect(ledger.position == 8)
    }

    @Test func aConfirmIsDueByCount() {
        var ledger = DeliveryLedger(policy: ConfirmPolicy(every: 100, interval: .seconds(60)))
        _ = self.feed(&ledger, (1...99).map { (Int64($0), false) })
        #expect(ledger.confirmDue(at: self.at(0)) == nil)
        _ = self.feed(&ledger, [(100, false)])
        #expect(ledger.confirmDue(at: self.at(0)) == 100)
        ledger.confirmSent(100)
        #expect(ledger.confirmDue(at: self.at(0)) == nil)
        #expect(ledger.confirmDeadline == nil)
        #expect(ledger.finalConfirm == nil)
    }

    @Test func aConfirmIsDueByTimeFromTheFirstUnconfirmedMessage() {
        var ledger = DeliveryLedger(policy: ConfirmPolicy(every: 100, interval: .milliseconds(500)))
        #expect(ledger.confirmDeadline == nil)
        _ = self.feed(&ledger, [(1, false)], at: 0)
        _ = self.feed(&ledger, [(2, false)], at: 300)
        #expect(ledger.confirmDeadline == self.at(500))
        #expect(ledger.confirmDue(at: self.at(499)) == nil)
        #expect(ledger.confirmDue(at: self.at(500)) == 2)
        ledger.confirmSent(2)
        _ = self.feed(&ledger, [(3, false)], at: 700)
        #expect(ledger.confirmDeadline == self.at(1200))
    }

    /// Reported: after a reconnect the follower confirmed its whole position while the new link
    /// had redelivered little of what lay between the server's floor and it; the server capped the
    /// `ACK` there, and as the rest came as duplicates nothing was confirmed again, not even on a
    /// clean stop.
    @Test func afterAReconnectTheConfirmFollowsWhatTheNewConnectionRedelivers() {
        var ledger = DeliveryLedger(policy: ConfirmPolicy(every: 100, interval: .milliseconds(500)))
        ledger.reconnected()
        #expect(ledger.confirmDeadline == nil)
        _ = self.feed(&ledger, (1...10).map { (Int64($0), false) })
        ledger.confirmSent(4)  // on the old link: whether it arrived is unknown
        ledger.reconnected()
        // Nothing is confirmable before the new link delivers in order: the server would cap it.
        #expect(ledger.finalConfirm == nil)
        #expect(ledger.confirmDue(at: self.at(10_000)) == nil)
        // The server resumes after its floor 2: the duplicates 3...6 (and an ahead 9) make 6
        // confirmable, not 10.
        #expect(self.feed(&ledger, [(3, false), (4, false), (9, true), (5, false), (6, false)], at: 1000).isEmpty)
        #expect(ledger.position == 10 && ledger.confirmable == 6)
        #expect(ledger.confirmDue(at: self.at(1499)) == nil)
        #expect(ledger.confirmDue(at: self.at(1500)) == 6)
        ledger.confirmSent(6)
        #expect(ledger.finalConfirm == nil && ledger.confirmDeadline == nil)
        #expect(self.feed(&ledger, (7...10).map { (Int64($0), false) }, at: 1600).isEmpty)
        #expect(ledger.finalConfirm == 10)
        #expect(ledger.confirmDue(at: self.at(2099)) == nil)
        #expect(ledger.confirmDue(at: self.at(2100)) == 10)
        // New messages move both positions, as on a first connection.
        #expect(self.feed(&ledger, [(11, false)], at: 2200) == [11])
        #expect(ledger.confirmable == 11 && ledger.finalConfirm == 11)
    }

    @Test func aRedeliveryOfAnAcknowledgedMessageIsAcknowledgedAgainNotHandedOut() {
        var ledger = DeliveryLedger(policy: ConfirmPolicy())
        _ = self.feed(&ledger, [(1, false), (2, false), (3, false)])
        ledger.acknowledge(1)
        ledger.acknowledge(3)
        #expect(ledger.receive(seq: 1, isAhead: false, at: self.at(0)) == .duplicate(reacknowledge: true))
        #expect(ledger.receive(seq: 2, isAhead: false, at: self.at(0)) == .duplicate(reacknowledge: false))
        #expect(ledger.receive(seq: 3, isAhead: false, at: self.at(0)) == .duplicate(reacknowledge: true))
    }

    @Test func acknowledgedSeqsAreBounded() {
        var ledger = DeliveryLedger(policy: ConfirmPolicy())
        for seq in 1...Int64(DeliveryLedger.acknowledgedLimit + 1) {
            ledger.acknowledge(seq)
        }
        #expect(ledger.acknowledged.count == DeliveryLedger.acknowledgedLimit / 2)
        #expect(ledger.acknowledged.contains(Int64(DeliveryLedger.acknowledgedLimit + 1)))
        #expect(!ledger.acknowledged.contains(1))
    }
}
