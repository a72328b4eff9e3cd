/// A security event to record (authentication, refusal, limit), before it has an id and a time.
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

    /// Creates the event.
    public init(kind: SecurityEventKind, account: String?, remote: String?, reason: String, actor: String? = nil) {
        self.kind = kind
        self.account = account
        self.remote = remote
        self.reason = reason
        self.actor = actor
    }
}
