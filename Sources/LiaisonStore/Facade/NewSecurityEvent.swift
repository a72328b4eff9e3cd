public import Foundation

/// A security event to record (authentication, refusal, limit), before it has an id.
public struct NewSecurityEvent: Sendable, Equatable {
    /// What happened.
    public var kind: SecurityEventKind
    /// The account concerned, if known.
    public var account: String?
    /// `host:port` of the client, or `liaisonctl`.
    public var remote: String?
    /// A sentence for people.
    public var reason: String
    /// Who made the change (admin changes only; see ``AdminAudit``); `nil` for events about clients.
    public var actor: String?
    /// When it happened, to the microsecond; `nil`: when it is stored. The daemon stamps events as
    /// they happen, so those written after a database outage keep their true time.
    public var at: Date?

    /// Creates the event.
    public init(
        kind: SecurityEventKind,
        account: String?,
        remote: String?,
        reason: String,
        actor: String? = nil,
        at: Date? = nil
    ) {
        self.kind = kind
        self.account = account
        self.remote = remote
        self.reason = reason
        self.actor = actor
        self.at = at
    }
}
