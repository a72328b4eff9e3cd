public import Foundation
public import LiaisonCore

/// What a session asks for when it binds a durable consumer (`SUB … durable=<name>`).
public struct ConsumerOpening: Sendable, Equatable {
    /// The owning account.
    public var account: String
    /// The durable name, unique per account.
    public var name: String
    /// Pattern and pacing.
    public var settings: ConsumerSettings
    /// An explicit `from=`; `nil` resumes (or, for a new consumer, starts at the log's head).
    public var start: StartPosition?
    /// `reset=true`: move an existing consumer to `start`.
    public var reset: Bool

    /// Creates the request.
    public init(account: String, name: String, settings: ConsumerSettings, start: StartPosition?, reset: Bool) {
        self.account = account
        self.name = name
        self.settings = settings
        self.start = start
        self.reset = reset
    }
}

/// A durable consumer as bound: where it stands, and for `ack=explicit` the messages delivered
/// but not yet settled, with how often each was delivered (so `max_deliver` holds across
/// reconnects and restarts).
public struct ConsumerBinding: Sendable, Equatable {
    /// The consumer row.
    public var info: ConsumerInfo
    /// Seq → deliveries so far, for messages above the ack floor that are still unsettled.
    /// Seqs above the floor, at or below ``ConsumerInfo/deliveredSeq`` and not listed here are
    /// settled (acknowledged or dead-lettered) and are not delivered again.
    public var pending: [Int64: Int]

    /// Creates the binding.
    public init(info: ConsumerInfo, pending: [Int64: Int]) {
        self.info = info
        self.pending = pending
    }
}

/// One page read of the log for a subscription that replays or catches up.
public struct PageRequest: Sendable, Equatable {
    /// Exclusive lower seq bound.
    public var after: Int64
    /// For `from=<time>`: find the start seq (the last one before this time) first, in the same call.
    public var startTime: Date?
    /// The subscription's pattern.
    public var pattern: TopicPattern
    /// The reader's clearance: messages classified above it are not read.
    public var clearance: Classification
    /// At most this many messages in ``LogPage/messages``.
    public var limit: Int
    /// At most this many `prio=flash` messages further on, in ``LogPage/flash``.
    public var flashLimit: Int
    /// Exclusive lower seq bound of the flash look-ahead (at least ``after``): past the flash
    /// messages already sent ahead, so each page reaches further ones instead of the same.
    public var flashAfter: Int64

    /// Creates the request.
    ///
    /// - Parameter flashAfter: The highest seq already sent ahead, if any (`nil`: ``after``).
    public init(
        after: Int64,
        startTime: Date?,
        pattern: TopicPattern,
        clearance: Classification,
        limit: Int,
        flashLimit: Int = 64,
        flashAfter: Int64? = nil
    ) {
        self.after = after
        self.startTime = startTime
        self.pattern = pattern
        self.clearance = clearance
        self.limit = limit
        self.flashLimit = flashLimit
        self.flashAfter = max(after, flashAfter ?? after)
    }
}

/// A page of the log.
public struct LogPage: Sendable, Equatable {
    /// Matching messages after the requested seq, ascending; fewer than the limit means the log's
    /// end was reached at the time of the read.
    public var messages: [Message]
    /// `prio=flash` messages after the requested seq (possibly beyond the page), ascending.
    public var flash: [Message]

    /// Creates a page.
    public init(messages: [Message], flash: [Message]) {
        self.messages = messages
        self.flash = flash
    }
}

/// A durable consumer's progress since it was last recorded.
public struct ConsumerProgress: Sendable, Equatable {
    /// The owning account.
    public var account: String
    /// The durable name.
    public var name: String
    /// The ack floor: every matching seq at or below it is settled.
    public var ackFloor: Int64
    /// The highest seq delivered.
    public var deliveredSeq: Int64
    /// Unsettled messages whose delivery count changed: seq → deliveries (`ack=explicit`).
    public var deliveries: [Int64: Int]
    /// Messages settled (acknowledged) since the last record.
    public var settled: [Int64]
    /// Deliveries returned uncounted as the subscription ended (in flight behind the oldest):
    /// seq → the count that delivery raised it to. Each is recorded one lower, unless its stored
    /// count differs by then (a newer binding delivered it again).
    public var returned: [Int64: Int]

    /// Creates a progress record.
    public init(
        account: String,
        name: String,
        ackFloor: Int64,
        deliveredSeq: Int64,
        deliveries: [Int64: Int] = [:],
        settled: [Int64] = [],
        returned: [Int64: Int] = [:]
    ) {
        self.account = account
        self.name = name
        self.ackFloor = ackFloor
        self.deliveredSeq = deliveredSeq
        self.deliveries = deliveries
        self.settled = settled
        self.returned = returned
    }
}

/// Messages a consumer gave up on, and the ack floor once they are out of the way.
public struct DeadLetterMove: Sendable, Equatable {
    /// One message to move.
    public struct Letter: Sendable, Equatable {
        /// Its seq.
        public var seq: Int64
        /// Its topic.
        public var topic: String
        /// How often it was delivered.
        public var deliveries: Int

        /// Creates a letter.
        public init(seq: Int64, topic: String, deliveries: Int) {
            self.seq = seq
            self.topic = topic
            self.deliveries = deliveries
        }
    }

    /// The owning account.
    public var account: String
    /// The durable name.
    public var consumer: String
    /// What to move.
    public var letters: [Letter]
    /// Why, for people (`no ACK after 5 deliveries`).
    public var reason: String
    /// The ack floor with these letters settled; recorded in the same transaction.
    public var ackFloor: Int64

    /// Creates the move.
    public init(account: String, consumer: String, letters: [Letter], reason: String, ackFloor: Int64) {
        self.account = account
        self.consumer = consumer
        self.letters = letters
        self.reason = reason
        self.ackFloor = ackFloor
    }
}
