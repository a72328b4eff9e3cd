/// One permission of an account: allow or deny publishing to, or reading, the topics a pattern selects.
///
/// Written `allow pub hq.ohchr.>` or `deny sub field.mm.restricted.>` in `liaisonctl acl` output.
public struct AccessRule: Sendable, Hashable, CustomStringConvertible {
    /// Publish or subscribe.
    public var action: AccessAction
    /// Allow or deny.
    public var effect: AccessEffect
    /// The topics the rule is about.
    public var pattern: TopicPattern

    /// Creates a rule.
    ///
    /// - Parameters:
    ///   - action: Publish or subscribe.
    ///   - effect: Allow or deny.
    ///   - pattern: The topics the rule is about.
    public init(action: AccessAction, effect: AccessEffect, pattern: TopicPattern) {
        self.action = action
        self.effect = effect
        self.pattern = pattern
    }

    /// `<effect> <action> <pattern>`, e.g. `allow pub hq.ohchr.>`.
    public var description: String {
        "\(self.effect.rawValue) \(self.action.rawValue) \(self.pattern.value)"
    }
}
