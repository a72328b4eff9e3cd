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
}
