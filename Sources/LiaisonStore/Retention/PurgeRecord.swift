import LiaisonCore

/// What `audit_leaves` keeps of a message retention purged (migration 0010): which pass purged
/// it, when, under which policy, and its canonical leaf encoding (without the payload, which
/// enters the encoding as its SHA-256 only).
public struct PurgeRecord: Sendable, Equatable {
    /// The pass (`retention_purges.id`).
    public var purgeID: Int64
    /// When it was purged, in microseconds since the Unix epoch.
    public var purgedAtMicroseconds: Int64
    /// The pattern of the policy that allowed the purge.
    public var pattern: String
    /// That policy's keep at the time, in days.
    public var keepDays: Int
    /// The message's leaf encoding (docs/AUDIT.md, "Leaf encoding").
    public var encoding: [UInt8]

    /// Creates a record.
    public init(purgeID: Int64, purgedAtMicroseconds: Int64, pattern: String, keepDays: Int, encoding: [UInt8]) {
        self.purgeID = purgeID
        self.purgedAtMicroseconds = purgedAtMicroseconds
        self.pattern = pattern
        self.keepDays = keepDays
        self.encoding = encoding
    }

    /// Why this record does not justify the purge of `leaf`, or `nil` when it does: the encoding
    /// hashes to the sealed leaf hash and carries the leaf's seq, the policy's pattern matches
    /// its topic, the message was past the keep when purged, and no hold in force then covered it.
    ///
    /// It cannot tell whether the policy really existed then, nor whether a longer policy also
    /// matched: policies are not kept historically (docs/AUDIT.md, "Retention", limits).
    public func problem(for leaf: SealedLeaf, holds: [RetentionHold]) -> String? {
        guard MerkleHash.leaf(self.encoding) == leaf.hash, let decoded = AuditLeaf(encoding: self.encoding),
            decoded.seq == leaf.seq
        else { return "its purge record does not match its sealed leaf (audit_leaves altered)" }
        guard let topic = try? Topic(decoded.topic), let pattern = try? TopicPattern(self.pattern),
            pattern.matches(topic)
        else { return "purged under policy \(self.pattern), which does not match its topic \(decoded.topic)" }
        let policy = RetentionPolicy(pattern: pattern, keepDays: self.keepDays)
        guard
            policy.expired(
                publishedMicroseconds: decoded.publishedMicroseconds,
                nowMicroseconds: self.purgedAtMicroseconds
            )
        else { return "purged before its policy \(self.pattern) (\(self.keepDays) days) allowed" }
        let rules = RetentionRules(policies: [], holds: holds)
        if let hold = rules.hold(seq: leaf.seq, topic: topic, atMicroseconds: self.purgedAtMicroseconds) {
            return "purged while hold \(hold.id) (\(hold.scope)) was in force"
        }
        return nil
    }
}
