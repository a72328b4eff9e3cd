public import LiaisonCore

/// What retention decides for one message.
public enum RetentionDecision: Sendable, Equatable {
    /// No policy matches its topic: kept for ever.
    case keepNoPolicy
    /// The winning policy still keeps it (it is younger than the keep).
    case keepRecent(RetentionPolicy)
    /// Past its policy's keep, but a hold in force covers it (the hold's id).
    case keepHeld(RetentionPolicy, holdID: Int64)
    /// Past its policy's keep and under no hold: purge it.
    case purge(RetentionPolicy)
}

/// The pure core of retention: which policy governs a topic and whether a message may be purged
/// (docs/AUDIT.md, "Retention"). No database: the purger and `audit verify` both use it.
///
/// Where several policies match a topic, the **longest keep wins**: a message is purged only when
/// every matching policy would let it go, so adding a policy never shortens the life of a message
/// another policy keeps. A default policy `>` therefore sets a floor for every topic. A hold in
/// force overrides every policy.
public struct RetentionRules: Sendable, Equatable {
    /// The policies, in any order.
    public var policies: [RetentionPolicy]
    /// The holds; only those in force at the decision's time count.
    public var holds: [RetentionHold]

    /// Creates the rules.
    public init(policies: [RetentionPolicy], holds: [RetentionHold]) {
        self.policies = policies
        self.holds = holds
    }

    /// The policy governing `topic`: the matching one with the longest keep (ties: the longer
    /// pattern text, then the smaller, so the choice does not depend on the order of the list).
    public func policy(for topic: Topic) -> RetentionPolicy? {
        self.policies.filter { $0.pattern.matches(topic) }.max { lhs, rhs in
            (lhs.keepDays, lhs.pattern.value.utf8.count, rhs.pattern.value)
                < (rhs.keepDays, rhs.pattern.value.utf8.count, lhs.pattern.value)
        }
    }

    /// The first hold (lowest id) in force at `nowMicroseconds` that covers the message.
    public func hold(seq: Int64, topic: Topic, atMicroseconds nowMicroseconds: Int64) -> RetentionHold? {
        self.holds.filter { $0.inForce(atMicroseconds: nowMicroseconds) && $0.covers(seq: seq, topic: topic) }
            .min { $0.id < $1.id }
    }

    /// The fewest days any policy keeps, or `nil` without policies: no message younger than this
    /// can be purged, so the purger reads only older ones.
    public var shortestKeepDays: Int? {
        self.policies.map(\.keepDays).min()
    }

    /// Decides for the message `seq` on `topic`, published at `publishedMicroseconds`, at `nowMicroseconds`.
    public func decide(
        seq: Int64,
        topic: Topic,
        publishedMicroseconds: Int64,
        nowMicroseconds: Int64
    ) -> RetentionDecision {
        guard let policy = self.policy(for: topic) else { return .keepNoPolicy }
        guard policy.expired(publishedMicroseconds: publishedMicroseconds, nowMicroseconds: nowMicroseconds) else {
            return .keepRecent(policy)
        }
        if let hold = self.hold(seq: seq, topic: topic, atMicroseconds: nowMicroseconds) {
            return .keepHeld(policy, holdID: hold.id)
        }
        return .purge(policy)
    }
}
