/// The outcome of an access check, with the rule that decided it, for audit events and `acl check`.
public struct AccessDecision: Sendable, Equatable, CustomStringConvertible {
    /// Whether the action is permitted.
    public var allowed: Bool
    /// The deciding rule: the allow rule that grants, or the deny rule that refuses; `nil` when
    /// nothing allows the action (refused by default).
    public var rule: AccessRule?
    /// A sentence for people and for the audit table's `reason`, e.g.
    /// `denied by deny sub a.secret.> (overlaps a.>)`.
    public var reason: String

    /// Creates a decision.
    ///
    /// - Parameters:
    ///   - allowed: Whether the action is permitted.
    ///   - rule: The deciding rule, if any.
    ///   - reason: A sentence that says why.
    public init(allowed: Bool, rule: AccessRule?, reason: String) {
        self.allowed = allowed
        self.rule = rule
        self.reason = reason
    }

    /// `allowed: <reason>` or `denied: <reason>`.
    public var description: String {
        (self.allowed ? "allowed: " : "denied: ") + self.reason
    }
}
