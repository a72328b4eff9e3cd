import LiaisonCore

/// One subscription of a connection: its delivery state, and for explicit acks and durable
/// consumers the bookkeeping that goes with them.
struct Subscription {
    /// Live or catching up; the seq delivered so far.
    var state: SubscriptionState
    /// In-flight messages, for `ack=explicit`; `nil` for `ack=auto`.
    var tracker: AckTracker?
    /// The durable consumer's name, for `durable=`.
    var durable: String?
    /// The ack floor and delivered seq last written to the store (durable only).
    var persistedFloor: Int64 = 0
    var persistedDelivered: Int64 = 0

    var sid: String { self.state.sid }
    var subscriptionID: UInt64 { self.state.subscriptionID }
    var pattern: TopicPattern { self.state.pattern }

    /// How many more messages may go out now under the in-flight window.
    var capacity: Int { self.tracker?.capacity ?? Int.max }

    /// Where the consumer stands: everything matching at or below it is settled.
    var ackFloor: Int64 {
        self.tracker?.ackFloor(lastDelivered: self.state.lastDelivered) ?? self.state.lastDelivered
    }

    /// Whether the store is behind this subscription's progress.
    var progressIsDirty: Bool {
        self.durable != nil
            && (self.ackFloor > self.persistedFloor || self.state.lastDelivered > self.persistedDelivered)
    }
}
