public import LiaisonCore

/// How a durable consumer follows the log: what it selects and how its deliveries are paced.
///
/// These are the `SUB … durable=<name>` options the daemon persists in `durable_cursors`. Every
/// number must be positive; the database refuses anything else.
public struct ConsumerSettings: Sendable, Equatable {
    /// The topics the consumer follows; fixed for its lifetime unless it is reset.
    public var pattern: TopicPattern
    /// Whether each message needs an `ACK` (`explicit`) or counts as acknowledged once written (`auto`).
    public var ackMode: AckMode
    /// How long an unacknowledged delivery waits before it is delivered again, in milliseconds.
    public var ackWaitMilliseconds: Int64
    /// How many deliveries a message gets before it is dead-lettered (≥ 1).
    public var maxDeliver: Int
    /// How many unacknowledged messages the consumer may hold at once (≥ 1).
    public var maxInflight: Int

    /// Creates settings; the defaults are those of the `durable_cursors` columns.
    ///
    /// - Parameters:
    ///   - pattern: The topics to follow.
    ///   - ackMode: `auto` or `explicit`.
    ///   - ackWaitMilliseconds: Redelivery delay of an unacknowledged message, in milliseconds (default 30 000).
    ///   - maxDeliver: Deliveries before dead-lettering (default 5).
    ///   - maxInflight: Unacknowledged messages at most (default 1000).
    public init(
        pattern: TopicPattern,
        ackMode: AckMode,
        ackWaitMilliseconds: Int64 = 30_000,
        maxDeliver: Int = 5,
        maxInflight: Int = 1000
    ) {
        self.pattern = pattern
        self.ackMode = ackMode
        self.ackWaitMilliseconds = ackWaitMilliseconds
        self.maxDeliver = maxDeliver
        self.maxInflight = maxInflight
    }

    /// Checks the numbers before they reach the database, so a bad value reads as a user error.
    ///
    /// - Throws: ``StoreError`` `.invalid` naming the first value that is not positive or does not
    ///   fit its column (`max_deliver` and `max_inflight` are 32-bit).
    func validate() throws(StoreError) {
        guard self.ackWaitMilliseconds > 0 else {
            throw StoreError(.invalid, "ack wait must be positive, got \(self.ackWaitMilliseconds) ms")
        }
        guard self.maxDeliver > 0, self.maxDeliver <= Int(Int32.max) else {
            throw StoreError(.invalid, "max deliver must be between 1 and \(Int32.max), got \(self.maxDeliver)")
        }
        guard self.maxInflight > 0, self.maxInflight <= Int(Int32.max) else {
            throw StoreError(.invalid, "max inflight must be between 1 and \(Int32.max), got \(self.maxInflight)")
        }
    }
}
