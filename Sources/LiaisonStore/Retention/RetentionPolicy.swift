public import LiaisonCore

/// Keep the messages of a topic pattern for a number of days (`retention_policies`).
public struct RetentionPolicy: Sendable, Equatable {
    /// The longest keep a policy may have, in days (100 years).
    public static let maxKeepDays = 36_500

    /// Microseconds in one day.
    public static let microsecondsPerDay: Int64 = 86_400 * 1_000_000

    /// The topics it applies to.
    public var pattern: TopicPattern
    /// How long a message is kept after its publication, in days (1…``maxKeepDays``).
    public var keepDays: Int
    /// Who set it (an operator name).
    public var setBy: String
    /// When it was set, in microseconds since the Unix epoch.
    public var setAtMicroseconds: Int64

    /// Creates a policy.
    public init(pattern: TopicPattern, keepDays: Int, setBy: String = "", setAtMicroseconds: Int64 = 0) {
        self.pattern = pattern
        self.keepDays = keepDays
        self.setBy = setBy
        self.setAtMicroseconds = setAtMicroseconds
    }

    /// Whether a message published at `publishedMicroseconds` is past this policy's keep at
    /// `nowMicroseconds` (its age is at least `keepDays` whole days).
    public func expired(publishedMicroseconds: Int64, nowMicroseconds: Int64) -> Bool {
        nowMicroseconds - publishedMicroseconds >= Int64(self.keepDays) * Self.microsecondsPerDay
    }
}

/// A legal hold: messages it covers are never purged while it is in force, whatever the policies
/// say (`retention_holds`).
///
/// It covers a message when the message's topic matches ``pattern`` (if set) **and** its seq lies
/// in ``seqs`` (if set); at least one of the two is set.
public struct RetentionHold: Sendable, Equatable {
    /// The hold's id (`retention_holds.id`), used by `retention release`.
    public var id: Int64
    /// The topics it covers; `nil`: every topic (of ``seqs``).
    public var pattern: TopicPattern?
    /// The seqs it covers; `nil`: every seq (of ``pattern``).
    public var seqs: ClosedRange<Int64>?
    /// Why it was placed, for people.
    public var reason: String
    /// Who placed it.
    public var placedBy: String
    /// When it was placed, in microseconds since the Unix epoch.
    public var placedAtMicroseconds: Int64
    /// Who released it; `nil` while it is in force.
    public var releasedBy: String?
    /// When it was released, in microseconds since the Unix epoch; `nil` while it is in force.
    public var releasedAtMicroseconds: Int64?

    /// Creates a hold.
    public init(
        id: Int64,
        pattern: TopicPattern?,
        seqs: ClosedRange<Int64>?,
        reason: String,
        placedBy: String = "",
        placedAtMicroseconds: Int64 = 0,
        releasedBy: String? = nil,
        releasedAtMicroseconds: Int64? = nil
    ) {
        self.id = id
        self.pattern = pattern
        self.seqs = seqs
        self.reason = reason
        self.placedBy = placedBy
        self.placedAtMicroseconds = placedAtMicroseconds
        self.releasedBy = releasedBy
        self.releasedAtMicroseconds = releasedAtMicroseconds
    }

    /// Whether the hold covers the message `seq` on `topic` (whether or not it is in force).
    public func covers(seq: Int64, topic: Topic) -> Bool {
        if let seqs = self.seqs, !seqs.contains(seq) { return false }
        if let pattern = self.pattern, !pattern.matches(topic) { return false }
        return true
    }

    /// Whether the hold was in force at `microseconds`: placed at or before it, not yet released.
    public func inForce(atMicroseconds microseconds: Int64) -> Bool {
        guard self.placedAtMicroseconds <= microseconds else { return false }
        guard let released = self.releasedAtMicroseconds else { return true }
        return microseconds < released
    }

    /// What it covers, for people: `field.> seqs 10-20`, `field.>`, `seqs 10-20`.
    public var scope: String {
        var parts: [String] = []
        if let pattern = self.pattern { parts.append(pattern.value) }
        if let seqs = self.seqs { parts.append("seqs \(seqs.lowerBound)-\(seqs.upperBound)") }
        return parts.joined(separator: " ")
    }
}
