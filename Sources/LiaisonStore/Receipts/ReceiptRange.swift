public import Foundation
public import LiaisonCore

/// What happened to the messages of a receipt range.
public enum ReceiptEvent: String, Sendable, Equatable, CaseIterable {
    /// First delivered to the subscription (redeliveries are not receipts).
    case delivered
    /// Acknowledged by the durable consumer (its ack floor passed them, or an explicit `ACK`).
    case acked
}

/// One row of `receipt_ranges` (migration 0008): a contiguous seq range of one subscription.
///
/// Meaning (docs/AUDIT.md, "Receipts"): every message with ``firstSeq`` ≤ seq ≤ ``lastSeq``
/// whose topic matches ``pattern`` and whose class is within ``clearance`` had ``event`` happen
/// for this subscription between ``firstAt`` and ``lastAt``. A subscription's first deliveries
/// are its matching seqs in order without gaps, so one range stands for any number of messages.
public struct ReceiptRange: Sendable, Equatable {
    /// The recipient account.
    public var account: String
    /// The durable consumer's name; `nil` for a plain subscription.
    public var consumer: String?
    /// The daemon's connection id and the peer's `ip:port` (`c17/10.1.2.3:50122`).
    public var connection: String
    /// The subscription's sid on that connection.
    public var subscription: String
    /// The subscription's pattern.
    public var pattern: String
    /// The reader's clearance while the range was open.
    public var clearance: Classification
    /// Delivered or acknowledged.
    public var event: ReceiptEvent
    /// The lowest seq covered (inclusive).
    public var firstSeq: Int64
    /// The highest seq covered (inclusive, at least ``firstSeq``).
    public var lastSeq: Int64
    /// When the first message of the range had the event (wall clock).
    public var firstAt: Date
    /// When the last one had it (at least ``firstAt``).
    public var lastAt: Date

    /// Creates a range.
    public init(
        account: String,
        consumer: String?,
        connection: String,
        subscription: String,
        pattern: String,
        clearance: Classification,
        event: ReceiptEvent,
        firstSeq: Int64,
        lastSeq: Int64,
        firstAt: Date,
        lastAt: Date
    ) {
        self.account = account
        self.consumer = consumer
        self.connection = connection
        self.subscription = subscription
        self.pattern = pattern
        self.clearance = clearance
        self.event = event
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.firstAt = firstAt
        self.lastAt = lastAt
    }
}

/// Who received and acknowledged one message (the `audit_receipts` view), for `RECEIPTS <seq>`
/// and `liaisonctl receipts <seq>`.
public struct ReceiptReport: Sendable, Equatable {
    /// The message.
    public var seq: Int64
    /// Its topic.
    public var topic: String
    /// The account that published it.
    public var publisher: String
    /// Its publication time.
    public var publishedAt: Date
    /// Its `class` (`internal` when absent) and `prio` (`routine` when absent).
    public var classification: String
    /// Its priority.
    public var priority: String
    /// One entry per account that is entitled to it or received it, by account name.
    public var recipients: [AccountReceipt]

    /// Creates a report.
    public init(
        seq: Int64,
        topic: String,
        publisher: String,
        publishedAt: Date,
        classification: String,
        priority: String,
        recipients: [AccountReceipt]
    ) {
        self.seq = seq
        self.topic = topic
        self.publisher = publisher
        self.publishedAt = publishedAt
        self.classification = classification
        self.priority = priority
        self.recipients = recipients
    }
}

/// One account's receipt of one message (a row of `audit_receipts`).
public struct AccountReceipt: Sendable, Equatable {
    /// The account.
    public var account: String
    /// Entitled by its rules and clearance (enabled, not an admin, not the publisher).
    public var entitled: Bool
    /// No later than this it was first delivered to one of the account's subscriptions.
    public var deliveredAt: Date?
    /// No later than this one of its durable consumers acknowledged it.
    public var ackedAt: Date?
    /// `acknowledged`, `delivered` or `pending`.
    public var status: String
    /// Through what: `durable:<name>` or `sid:<sid>@<connection>`, sorted.
    public var via: [String]

    /// Creates a receipt.
    public init(account: String, entitled: Bool, deliveredAt: Date?, ackedAt: Date?, status: String, via: [String]) {
        self.account = account
        self.entitled = entitled
        self.deliveredAt = deliveredAt
        self.ackedAt = ackedAt
        self.status = status
        self.via = via
    }
}

/// One entitled account that has not acknowledged one message (the `audit_pending` view).
public struct PendingReceipt: Sendable, Equatable {
    /// The message.
    public var seq: Int64
    /// Its topic, publisher, publication time and priority.
    public var topic: String
    /// The publisher.
    public var publisher: String
    /// The publication time.
    public var publishedAt: Date
    /// `flash`, `routine`, ….
    public var priority: String
    /// The account that has not acknowledged it.
    public var account: String
    /// When it was delivered to that account, if it was (`nil`: never delivered).
    public var deliveredAt: Date?

    /// Creates a row.
    public init(
        seq: Int64,
        topic: String,
        publisher: String,
        publishedAt: Date,
        priority: String,
        account: String,
        deliveredAt: Date?
    ) {
        self.seq = seq
        self.topic = topic
        self.publisher = publisher
        self.publishedAt = publishedAt
        self.priority = priority
        self.account = account
        self.deliveredAt = deliveredAt
    }
}
