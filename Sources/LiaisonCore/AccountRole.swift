/// What an account may administer.
public enum AccountRole: String, Sendable, CaseIterable {
    /// Publishes and subscribes within its permissions.
    case member
    /// Also manages accounts and reads the audit trail.
    case admin
}
