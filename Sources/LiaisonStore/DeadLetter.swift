public import Foundation

/// A message a durable consumer gave up on after `max_deliver` deliveries without an `ACK`.
///
/// It lies at or below the consumer's ack floor, so the consumer does not see it again until an
/// admin requests a replay (`liaisonctl deadletter replay <id>`); the daemon then delivers it once
/// more and stamps ``replayedAt``.
public struct DeadLetter: Sendable, Equatable {
    /// The record's id, for `deadletter replay`.
    public var id: Int64
    /// The account owning the consumer.
    public var account: String
    /// The consumer's durable name.
    public var consumer: String
    /// The message's seq in the log.
    public var seq: Int64
    /// The message's topic, kept so a listing needs no join.
    public var topic: String
    /// How many times it was delivered before it was dead-lettered.
    public var deliveries: Int
    /// Why, for people (e.g. `max_deliver 5 reached`).
    public var reason: String
    /// When it was dead-lettered (UTC).
    public var createdAt: Date
    /// When an admin last asked for a replay, `nil` if never.
    public var replayRequestedAt: Date?
    /// When the daemon took that replay, `nil` while it is still to do (or never requested).
    public var replayedAt: Date?

    /// Creates a dead-letter value.
    ///
    /// - Parameters:
    ///   - id: The record id.
    ///   - account: The owning account.
    ///   - consumer: The durable name.
    ///   - seq: The message seq.
    ///   - topic: The message topic.
    ///   - deliveries: Deliveries made.
    ///   - reason: Why it was given up.
    ///   - createdAt: When.
    ///   - replayRequestedAt: When a replay was requested.
    ///   - replayedAt: When the replay was taken.
    public init(
        id: Int64,
        account: String,
        consumer: String,
        seq: Int64,
        topic: String,
        deliveries: Int,
        reason: String,
        createdAt: Date,
        replayRequestedAt: Date? = nil,
        replayedAt: Date? = nil
    ) {
        self.id = id
        self.account = account
        self.consumer = consumer
        self.seq = seq
        self.topic = topic
        self.deliveries = deliveries
        self.reason = reason
        self.createdAt = createdAt
        self.replayRequestedAt = replayRequestedAt
        self.replayedAt = replayedAt
    }
}
