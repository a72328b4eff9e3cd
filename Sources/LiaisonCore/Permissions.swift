/// What one account may publish, subscribe to and read: its access rules and its clearance.
///
/// Deny wins: a topic is permitted when some allow rule of the action selects it and no deny rule
/// of the action does. A subscription pattern is stricter than a topic: it must be contained in
/// one allow-sub pattern (every topic it could select is allowed) and overlap no deny-sub pattern
/// (no topic it could select is denied), so `SUB a.>` under `allow sub a.b.*` is refused while
/// `SUB a.*.c` under `allow sub a.>` is accepted. Delivery re-checks each message with
/// ``mayRead(_:)`` as defence in depth.
///
/// ```swift
/// let permissions = Permissions(
///     rules: [
///         AccessRule(action: .subscribe, effect: .allow, pattern: try TopicPattern("field.mm.>")),
///         AccessRule(action: .subscribe, effect: .deny, pattern: try TopicPattern("field.mm.hr.>")),
///     ],
///     clearance: .internal
/// )
/// permissions.maySubscribe(try TopicPattern("field.mm.*.early-warning"))  // true
/// permissions.maySubscribe(try TopicPattern("field.mm.>"))                // false: overlaps the deny
/// ```
public struct Permissions: Sendable, Equatable {
    /// The account's rules, in any order.
    public var rules: [AccessRule]
    /// The most sensitive classification the account may read or publish.
    public var clearance: Classification
    /// The account's role when these were loaded: an admin may read every message's receipts.
    /// Reloaded with the rules, so a demotion reaches live connections too.
    public var role: AccountRole
    /// Whether the account was enabled when these were loaded; a disabled account's live
    /// connections may do nothing (``disabled``).
    public var enabled: Bool

    /// Creates permissions.
    ///
    /// - Parameters:
    ///   - rules: Allow and deny rules for both actions.
    ///   - clearance: The most sensitive classification the account may read or publish.
    ///   - role: The account's role; `.member` unless given.
    ///   - enabled: Whether the account is enabled; `true` unless given.
    public init(rules: [AccessRule], clearance: Classification, role: AccountRole = .member, enabled: Bool = true) {
        self.rules = rules
        self.clearance = clearance
        self.role = role
        self.enabled = enabled
    }

    /// Allow publishing and subscribing to every topic, cleared for everything, role admin: what
    /// admins get.
    public static let everything = Permissions(
        rules: [
            AccessRule(action: .publish, effect: .allow, pattern: Self.anyTopic),
            AccessRule(action: .subscribe, effect: .allow, pattern: Self.anyTopic),
        ],
        clearance: .strictlyConfidential,
        role: .admin
    )

    /// No rules, cleared for public messages only: refuses every publish and subscription.
    public static let nothing = Permissions(rules: [], clearance: .public)

    /// A disabled, unknown or not loaded account: no rules, no admin role, nothing at all.
    public static let disabled = Permissions(rules: [], clearance: .public, enabled: false)

    // `>` is a valid pattern, so this never traps.
    private static let anyTopic = try! TopicPattern(">")

    /// Whether the account may publish to `topic`: an allow-pub rule matches it and no deny-pub rule does.
    ///
    /// - Parameter topic: The topic of a `PUB`.
    /// - Returns: `true` when permitted (the classification is checked separately, ``isCleared(for:)``).
    public func mayPublish(_ topic: Topic) -> Bool {
        self.decide(publish: topic).allowed
    }

    /// Whether the account may subscribe with `pattern`: it is contained in some allow-sub pattern
    /// and overlaps no deny-sub pattern.
    ///
    /// - Parameter pattern: The pattern of a `SUB` (a literal topic is a pattern too).
    /// - Returns: `true` when every topic the pattern can select may be read.
    public func maySubscribe(_ pattern: TopicPattern) -> Bool {
        self.decide(subscribe: pattern).allowed
    }

    /// Whether the account may read a message on `topic`: an allow-sub rule matches it and no deny-sub rule does.
    ///
    /// The delivery re-check; it also lets a change of rules stop live delivery at once.
    ///
    /// - Parameter topic: The topic of a message about to be delivered.
    /// - Returns: `true` when permitted (the classification is checked separately).
    public func mayRead(_ topic: Topic) -> Bool {
        self.decide(read: topic).allowed
    }

    /// Whether the account's clearance covers `classification` (`classification <= clearance`).
    ///
    /// - Parameter classification: A message's `class` (``Classification/internal`` when absent).
    /// - Returns: `true` when the account may read, or publish, a message of that class.
    public func isCleared(for classification: Classification) -> Bool {
        classification <= self.clearance
    }

    /// Decides a publish and says why.
    ///
    /// - Parameter topic: The topic of a `PUB`.
    /// - Returns: The decision, naming the deny rule that refused or the allow rule that granted.
    public func decide(publish topic: Topic) -> AccessDecision {
        self.decide(topic: topic, action: .publish)
    }

    /// Decides a delivery (read) and says why.
    ///
    /// - Parameter topic: The topic of a message.
    /// - Returns: The decision, naming the deny rule that refused or the allow rule that granted.
    public func decide(read topic: Topic) -> AccessDecision {
        self.decide(topic: topic, action: .subscribe)
    }

    /// Decides a subscription and says why.
    ///
    /// - Parameter pattern: The pattern of a `SUB`.
    /// - Returns: The decision, naming the deny rule the pattern overlaps, or the allow rule that contains it.
    public func decide(subscribe pattern: TopicPattern) -> AccessDecision {
        let subscribeRules = self.rules.filter { $0.action == .subscribe }
        if let deny = subscribeRules.first(where: { $0.effect == .deny && pattern.overlaps($0.pattern) }) {
            return AccessDecision(
                allowed: false,
                rule: deny,
                reason: "pattern \(pattern) overlaps \(deny)"
            )
        }
        if let allow = subscribeRules.first(where: { $0.effect == .allow && pattern.isContained(in: $0.pattern) }) {
            return AccessDecision(allowed: true, rule: allow, reason: "pattern \(pattern) is within \(allow)")
        }
        return AccessDecision(
            allowed: false,
            rule: nil,
            reason: "pattern \(pattern) is not within any allow sub rule"
        )
    }

    private func decide(topic: Topic, action: AccessAction) -> AccessDecision {
        let actionRules = self.rules.filter { $0.action == action }
        if let deny = actionRules.first(where: { $0.effect == .deny && $0.pattern.matches(topic) }) {
            return AccessDecision(allowed: false, rule: deny, reason: "topic \(topic) is matched by \(deny)")
        }
        if let allow = actionRules.first(where: { $0.effect == .allow && $0.pattern.matches(topic) }) {
            return AccessDecision(allowed: true, rule: allow, reason: "topic \(topic) is matched by \(allow)")
        }
        return AccessDecision(
            allowed: false,
            rule: nil,
            reason: "topic \(topic) is not matched by any allow \(action.rawValue) rule"
        )
    }
}
