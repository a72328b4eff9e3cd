/// Whether an access rule grants or withholds what its pattern selects. A deny always wins.
public enum AccessEffect: String, Sendable, CaseIterable, Codable {
    /// Grants the topics the pattern selects, unless a deny rule also selects them.
    case allow
    /// Withholds the topics the pattern selects, whatever the allow rules say.
    case deny
}
