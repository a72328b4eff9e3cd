public import Foundation

/// A durable consumer as the store keeps it: its settings and how far it got.
///
/// Seqs relate as `ackFloor ≤ deliveredSeq` in normal operation: messages in
/// `ackFloor + 1 … deliveredSeq` were delivered and are awaiting an `ACK` (or were acknowledged
/// out of order, which the floor does not record).
public struct ConsumerInfo: Sendable, Equatable {
    /// The account that owns the consumer (its subscriber).
    public var account: String
    /// The durable name, unique per account.
    public var name: String
    /// What it follows and how deliveries are paced.
    public var settings: ConsumerSettings
    /// The ack floor (`acked_seq`): every matching seq at or below it is acknowledged or
    /// dead-lettered; a resuming consumer starts after it.
    public var ackFloor: Int64
    /// The highest seq delivered to it (`delivered_seq`).
    public var deliveredSeq: Int64
    /// When the ack floor last moved, `nil` if it never did.
    public var lastAckAt: Date?
    /// When the delivered seq last moved, `nil` if nothing was delivered yet.
    public var lastDeliveryAt: Date?
    /// When the consumer was created (UTC).
    public var createdAt: Date

    /// Creates a consumer value.
    ///
    /// - Parameters:
    ///   - account: The owning account.
    ///   - name: The durable name.
    ///   - settings: Pattern and pacing.
    ///   - ackFloor: The ack floor seq.
    ///   - deliveredSeq: The highest delivered seq.
    ///   - lastAckAt: When the floor last moved.
    ///   - lastDeliveryAt: When the delivered seq last moved.
    ///   - createdAt: The creation time.
    public init(
        account: String,
        name: String,
        settings: ConsumerSettings,
        ackFloor: Int64,
        deliveredSeq: Int64,
        lastAckAt: Date? = nil,
        lastDeliveryAt: Date? = nil,
        createdAt: Date
    ) {
        self.account = account
        self.name = name
        self.settings = settings
        self.ackFloor = ackFloor
        self.deliveredSeq = deliveredSeq
        self.lastAckAt = lastAckAt
        self.lastDeliveryAt = lastDeliveryAt
        self.createdAt = createdAt
    }
}
