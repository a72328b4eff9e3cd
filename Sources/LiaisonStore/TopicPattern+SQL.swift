import LiaisonCore

extension TopicPattern {
    /// A POSIX regular expression (PostgreSQL `~`) that matches exactly the topics this pattern selects.
    ///
    /// Literal tokens are `[A-Za-z0-9_-]`, none of which is special in a regex outside brackets,
    /// so they need no escaping; `*` becomes one token `[^.]+`, a final `>` one or more `.+`.
    var sqlRegex: String {
        var parts: [String] = []
        for token in self.tokens {
            switch token {
            case .literal(let text): parts.append(text)
            case .single: parts.append("[^.]+")
            case .multi: parts.append(".+")
            }
        }
        return "^" + parts.joined(separator: "\\.") + "$"
    }
}
