/// What a security event records; the raw value is the `security_events.kind` column and the
/// `--kind` filter of `liaisonctl audit events`.
public enum SecurityEventKind: String, Sendable, CaseIterable, Codable {
    /// `AUTH` succeeded.
    case authSucceeded = "auth.ok"
    /// `AUTH` failed: unknown account, wrong, expired or revoked token, or disabled account.
    case authFailed = "auth.failed"
    /// `AUTH` was refused because of too many recent failures.
    case authThrottled = "auth.throttled"
    /// A `PUB` was refused by the rules or the account's clearance (`ERR 403`).
    case publishRefused = "pub.refused"
    /// A `SUB` was refused by the rules (`ERR 403`).
    case subscribeRefused = "sub.refused"
    /// An access rule was granted or revoked.
    case aclChanged = "acl.changed"
    /// An account's clearance was changed.
    case clearanceChanged = "clearance.changed"
    /// A token was issued.
    case tokenIssued = "token.issued"
    /// A token was revoked.
    case tokenRevoked = "token.revoked"
    /// A connection was refused before authentication (e.g. too many connections).
    case connectionRefused = "conn.refused"
    /// `liaisonctl account add`, or an account new in `account import`.
    case accountAdded = "account.added"
    /// An existing account's fields were changed by `account import` (the reason lists old -> new).
    case accountUpdated = "account.updated"
    /// `liaisonctl account disable`.
    case accountDisabled = "account.disabled"
    /// `liaisonctl account enable`.
    case accountEnabled = "account.enabled"
    /// `liaisonctl consumer delete`.
    case consumerDeleted = "consumer.deleted"
    /// `liaisonctl consumer reset` (the reason gives the ack floor before and after).
    case consumerReset = "consumer.reset"
    /// `liaisonctl deadletter replay` asked the daemon to redeliver a dead letter.
    case deadLetterReplay = "deadletter.replay"
    /// The daemon could not write some security events (its queue was full while the database was
    /// unreachable): the reason says how many, of which kinds, and between which times.
    case auditDropped = "audit.dropped"
    /// `liaisonctl retention set`: a retention policy was set or changed (the reason gives old -> new).
    case retentionSet = "retention.set"
    /// `liaisonctl retention set --remove`: a retention policy was removed.
    case retentionRemoved = "retention.removed"
    /// `liaisonctl retention hold`: a legal hold was placed.
    case retentionHold = "retention.hold"
    /// `liaisonctl retention release`: a legal hold was released.
    case retentionRelease = "retention.release"
}
