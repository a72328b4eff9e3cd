/// What an access rule governs: publishing to topics or subscribing to patterns.
///
/// The raw values are what `liaisonctl acl` and the `access_rules.action` column use.
public enum AccessAction: String, Sendable, CaseIterable, Codable {
    /// `PUB`: the rule's pattern selects topics the account may (or may not) publish to.
    case publish = "pub"
    /// `SUB` and delivery: the rule's pattern selects topics the account may (or may not) read.
    case subscribe = "sub"
}
