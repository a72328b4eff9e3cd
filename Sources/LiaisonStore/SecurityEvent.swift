public import Foundation

/// One row of the audit table `security_events`.
public struct SecurityEvent: Sendable, Equatable {
    /// Row id, increasing in insertion order.
    public var id: Int64
    /// When it was recorded (the database's clock, UTC, microseconds).
    public var at: Date
    /// What happened.
    public var kind: SecurityEventKind
    /// The account concerned (the one authenticating, refused, or whose rules changed), if known.
    public var account: String?
    /// Where it came from: `host:port` of the client, or `liaisonctl` for admin commands.
    public var remote: String?
    /// A sentence for people, e.g. `topic hq.x is not matched by any allow pub rule`.
    public var reason: String
    /// Who made the change, for admin changes made with `liaisonctl` (`--actor`, else the
    /// operating-system user); `nil` for the events the daemon records about clients.
    public var actor: String?

    /// Creates an event value.
    public init(
        id: Int64,
        at: Date,
        kind: SecurityEventKind,
        account: String?,
        remote: String?,
        reason: String,
        actor: String? = nil
    ) {
        self.id = id
        self.at = at
        self.kind = kind
        self.account = account
        self.remote = remote
        self.reason = reason
        self.actor = actor
    }
}
