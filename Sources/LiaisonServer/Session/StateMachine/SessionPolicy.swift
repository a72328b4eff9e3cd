import LiaisonCore

/// The daemon-wide, in-memory rules a session consults synchronously: permissions, the AUTH
/// throttle, the publish rate, and the claims on durable names and account connection slots.
///
/// None of these touch a socket or the database, so the state machine may ask them directly;
/// tests give it a fake (docs/ARCHITECTURE.md, "Session state machine").
protocol SessionPolicy {
    /// The account's current permissions, or `nil` when not loaded (deny everything).
    func permissions(_ account: String) -> Permissions?
    /// Caches the permissions read with an `AUTH`.
    func remember(_ account: String, _ permissions: Permissions)
    /// Whether an `AUTH` from `address` for `account` may be checked now.
    func authVerdict(address: String, account: String, now: Int64) -> AuthThrottle.Verdict
    /// A token check succeeded: clear the account's failures.
    func authSucceeded(address: String, account: String)
    /// A token check failed: count it against the address and the account.
    func authFailed(address: String, account: String, now: Int64)
    /// Takes one publish from the account's rate budget; `false` when it is spent.
    func takePublishToken(_ account: String, now: Int64) -> Bool
    /// Claims a durable name for this connection; `false` when another connection holds it.
    func claimDurable(account: String, name: String) -> Bool
    /// Claims one of the account's connection slots; `false` past `limit`.
    func claimAccount(_ account: String, limit: Int) -> Bool
    /// Connections open on the daemon now, this one included.
    var connectionCount: Int { get }
}
