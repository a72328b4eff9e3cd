import DequeModule
import LiaisonCore
import LiaisonStore

extension SessionStateMachine {
    /// Gives a subscription just activated its receipt ledger (when receipts are on).
    mutating func startReceipts(sid: String) {
        guard self.configuration.receiptFlushMilliseconds != nil, let subscription = self.subscriptions[sid] else {
            return
        }
        // A durable consumer's floor as bound: what is below it was recorded by earlier sessions.
        let floor = subscription.durable != nil ? subscription.persistedFloor : 0
        self.subscriptions[sid]!.receipts = ReceiptLedger(floor: floor, now: self.lastCommandAt)
    }

    /// A first delivery went out (in order, or a flash message ahead of order).
    mutating func noteDelivery(seq: Int64, sid: String, ahead: Bool, clearance: Classification, now: Int64) {
        guard self.subscriptions[sid]?.receipts != nil else { return }
        if ahead {
            self.subscriptions[sid]!.receipts!.deliveredAhead(seq: seq, clearance: clearance, now: now)
        } else {
            self.subscriptions[sid]!.receipts!.delivered(seq: seq, clearance: clearance, now: now)
        }
        self.ensureReceiptTimer()
    }

    /// An explicit `ACK` settled a message of a durable consumer.
    ///
    /// At or below the ack floor the next floor range covers it; above it, it joins the open ack
    /// range when nothing in flight lies between and everything below it was delivered.
    mutating func noteAck(seq: Int64, sid: String, now: Int64) {
        guard let subscription = self.subscriptions[sid], subscription.durable != nil,
            let ledger = subscription.receipts, let tracker = subscription.tracker, seq > subscription.ackFloor
        else { return }
        var extends = false
        if let end = ledger.openAckEnd, seq > end, seq <= subscription.state.lastDelivered {
            extends = !tracker.inflight.keys.contains { $0 > end && $0 < seq }
        }
        self.subscriptions[sid]!.receipts!.acknowledged(
            seq: seq,
            clearance: self.permissions.clearance,
            extends: extends,
            now: now
        )
        self.ensureReceiptTimer()
    }

    private mutating func ensureReceiptTimer() {
        guard !self.receiptTimerRunning, self.phase != .closed,
            let milliseconds = self.configuration.receiptFlushMilliseconds
        else { return }
        self.receiptTimerRunning = true
        self.emit(.startTimer(.receipts, milliseconds: milliseconds))
    }

    /// The receipt timer fired: close every open range and hand them over; durable consumers'
    /// floors become ranges. Runs again while a floor may still move or a range is open.
    mutating func flushReceipts(now: Int64) {
        self.receiptTimerRunning = false
        var batches: [ReceiptBatch] = []
        var again = false
        let clearance = self.permissions.clearance
        for sid in Array(self.subscriptions.keys) {
            guard self.subscriptions[sid]?.receipts != nil, let subscription = self.subscriptions[sid] else { continue }
            if subscription.durable != nil {
                let floor = subscription.ackFloor
                self.subscriptions[sid]!.receipts!.observeFloor(floor, clearance: clearance, now: now)
                if floor < subscription.state.lastDelivered { again = true }
            }
            let spans = self.subscriptions[sid]!.receipts!.take()
            if !spans.isEmpty {
                batches.append(ReceiptBatch(identity: self.receiptIdentity(subscription), spans: spans))
                again = true
            }
        }
        if !batches.isEmpty { self.emit(.recordReceipts(batches)) }
        if again { self.ensureReceiptTimer() }
    }

    /// A subscription ends: its last ranges (and a durable consumer's last floor) go out now.
    mutating func closeReceipts(of subscription: inout Subscription) {
        guard var ledger = subscription.receipts else { return }
        if subscription.durable != nil {
            ledger.observeFloor(subscription.ackFloor, clearance: self.permissions.clearance, now: ledger.lastNow)
        }
        let spans = ledger.take()
        subscription.receipts = ledger
        guard !spans.isEmpty else { return }
        self.emit(.recordReceipts([ReceiptBatch(identity: self.receiptIdentity(subscription), spans: spans)]))
    }

    private func receiptIdentity(_ subscription: Subscription) -> ReceiptIdentity {
        ReceiptIdentity(
            subscriptionID: subscription.subscriptionID,
            account: self.account?.name ?? "",
            consumer: subscription.durable,
            connection: self.configuration.connectionName,
            sid: subscription.sid,
            pattern: subscription.pattern.description
        )
    }

    // MARK: RECEIPTS

    /// `RECEIPTS <seq>`: the reply waits for the store, in command order.
    ///
    /// One store read per connection at a time: later ones wait in ``receiptsWaiting`` (their
    /// reply slots reserved, so every command is still answered in order), and past
    /// ``maxWaitingReceipts`` reading pauses, so a client that pipelines `RECEIPTS` faster than
    /// the store answers holds neither the shared storage executor nor memory.
    ///
    /// A disabled account is refused at once, without a read.
    mutating func askReceipts(seq: Int64) {
        guard self.permissions.enabled else { return self.send(self.receiptsRefusal(seq)) }
        self.receiptsWaiting.append(PendingReceipts(ticket: self.outbound.reserve(), seq: seq))
        self.readNextReceipts()
    }

    /// Starts the next waiting `RECEIPTS` read: when none is in flight and the socket is below
    /// its high-water mark (a client that reads nothing gets no more replies queued; the stall
    /// timer closes it). Called again by each answer and when the socket drains.
    mutating func readNextReceipts() {
        guard !self.receiptsReading, self.writable, self.phase != .closed,
            let next = self.receiptsWaiting.popFirst()
        else { return }
        self.receiptsReading = true
        self.emit(.store(.receipts(ticket: next.ticket, seq: next.seq)))
    }

    /// The store answered `RECEIPTS`: the publisher of the message or an admin gets one `RCPT`
    /// line per account and `OK RECEIPTS <seq> n=<count>`; anyone else `ERR 403`. Decided on the
    /// account's current access (as the access poll last loaded it), not on the role it had at
    /// `AUTH`: a disabled account sees nothing and a demoted admin only its own messages' receipts.
    /// The next waiting `RECEIPTS` is read then.
    mutating func receiptsArrived(
        ticket: OutboundQueue<OutboundFrame>.Ticket,
        seq: Int64,
        _ result: Result<ReceiptReport?, StoreError>
    ) {
        self.receiptsReading = false
        defer { self.readNextReceipts() }
        let report: ReceiptReport
        switch result {
        case .failure(let error):
            return self.fill(ticket, ProtocolError(.unavailable, "receipts not read: \(error.message)").replyLine)
        case .success(nil):
            return self.fill(ticket, ProtocolError(.notFound, "no message with seq \(seq)").replyLine)
        case .success(let found?):
            report = found
        }
        let access = self.permissions
        guard let account = self.account, access.enabled, account.name == report.publisher || access.role == .admin
        else { return self.fill(ticket, self.receiptsRefusal(seq)) }
        var lines = report.recipients.map(Self.receiptLine)
        lines.append("OK RECEIPTS \(seq) n=\(report.recipients.count)")
        self.release(self.outbound.fill(ticket, with: .lines(lines)))
    }

    /// The `ERR 403` line for `RECEIPTS <seq>` (logged): the account is disabled, or neither the
    /// publisher nor an admin.
    private mutating func receiptsRefusal(_ seq: Int64) -> String {
        let reason =
            self.permissions.enabled
            ? "only the publisher of seq \(seq) or an admin may see its receipts"
            : "account \(self.account?.name ?? "") is disabled"
        self.emit(.log(.notice, "refused: \(reason)"))
        return ProtocolError(.forbidden, reason).replyLine
    }

    /// `RCPT <account> <status> delivered=<time|-> acked=<time|-> entitled=<yes|no> via=<list|->`.
    static func receiptLine(_ receipt: AccountReceipt) -> String {
        let delivered = receipt.deliveredAt.map(RFC3339.format) ?? "-"
        let acked = receipt.ackedAt.map(RFC3339.format) ?? "-"
        let via = receipt.via.isEmpty ? "-" : receipt.via.joined(separator: ",")
        return
            "RCPT \(receipt.account) \(receipt.status) delivered=\(delivered) acked=\(acked) entitled=\(receipt.entitled ? "yes" : "no") via=\(via)"
    }
}

/// A `RECEIPTS` waiting for its store read: its reply slot and the seq asked about.
struct PendingReceipts: Equatable {
    var ticket: OutboundQueue<OutboundFrame>.Ticket
    var seq: Int64
}
