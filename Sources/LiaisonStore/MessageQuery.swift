public import Foundation
public import LiaisonCore

/// Filters for auditing the message log (`liaisonctl messages list`). `nil` means "any".
public struct MessageQuery: Sendable, Equatable {
    /// Only messages published by this account.
    public var account: String?
    /// Only topics this pattern selects.
    public var pattern: TopicPattern?
    /// Published at or after this instant.
    public var since: Date?
    /// Published before this instant.
    public var until: Date?
    /// seq ≥ this.
    public var fromSeq: Int64?
    /// seq ≤ this.
    public var toSeq: Int64?
    /// At most this many rows (default 100).
    public var limit: Int
    /// Newest first instead of oldest first.
    public var newestFirst: Bool
    /// Only messages whose `class` is at or below this (the viewer's clearance); `nil` for any.
    public var maxClassification: Classification?
    /// Only messages of exactly this `class` (absent counts as ``Classification/internal``); `nil` for any.
    public var classification: Classification?

    /// Creates a query; with no arguments it lists the oldest 100 messages.
    public init(
        account: String? = nil,
        pattern: TopicPattern? = nil,
        since: Date? = nil,
        until: Date? = nil,
        fromSeq: Int64? = nil,
        toSeq: Int64? = nil,
        limit: Int = 100,
        newestFirst: Bool = false,
        maxClassification: Classification? = nil,
        classification: Classification? = nil
    ) {
        self.account = account
        self.pattern = pattern
        self.since = since
        self.until = until
        self.fromSeq = fromSeq
        self.toSeq = toSeq
        self.limit = limit
        self.newestFirst = newestFirst
        self.maxClassification = maxClassification
        self.classification = classification
    }
}
