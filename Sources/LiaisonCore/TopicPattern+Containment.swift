extension TopicPattern {
    /// Whether every topic this pattern matches is also matched by `other`.
    ///
    /// This is how a `SUB` is checked against an account's allowed patterns: a subscription may
    /// only select topics the account is allowed to read, so it must be contained in an allowed
    /// pattern, not merely overlap it.
    ///
    /// ```swift
    /// try TopicPattern("a.*.c").isContained(in: TopicPattern("a.>"))    // true
    /// try TopicPattern("a.>").isContained(in: TopicPattern("a.b.*"))    // false: a.x.y.z escapes
    /// try TopicPattern("*").isContained(in: TopicPattern(">"))          // true
    /// ```
    ///
    /// Token by token: a literal is covered by the same literal or a wildcard, `*` only by `*`
    /// or `>`, and `>` (any number of tokens) only by `>`; a `>` in `other` covers whatever one or
    /// more tokens remain. Lengths must agree otherwise, since without `>` a pattern fixes the
    /// number of tokens.
    ///
    /// - Parameter other: The covering pattern, e.g. an allow rule.
    /// - Returns: `true` when `self ⊆ other` as sets of topics; a pattern is contained in itself.
    public func isContained(in other: TopicPattern) -> Bool {
        let mine = self.tokens
        let theirs = other.tokens
        var index = 0
        while true {
            let mineEnded = index == mine.count
            let theirsEnded = index == theirs.count
            if theirsEnded || mineEnded {
                return theirsEnded && mineEnded
            }
            switch (mine[index], theirs[index]) {
            case (_, .multi):
                // `>` takes the one or more tokens left in `self`, whatever they are.
                return true
            case (.multi, _):
                // `self` reaches arbitrarily long topics; `other` without `>` does not.
                return false
            case (.single, .single), (.literal, .single):
                break
            case (.single, .literal):
                return false
            case (.literal(let a), .literal(let b)):
                guard a == b else { return false }
            }
            index += 1
        }
    }

    /// Whether some topic is matched by both patterns.
    ///
    /// A subscription that overlaps a denied pattern is refused even when an allow rule contains
    /// it, because delivering the shared topics would break the deny (deny wins).
    ///
    /// ```swift
    /// try TopicPattern("a.*").overlaps(TopicPattern("a.secret.>"))   // false: a.* has two tokens
    /// try TopicPattern("a.>").overlaps(TopicPattern("a.secret.>"))   // true
    /// try TopicPattern("a.b").overlaps(TopicPattern("a.c"))          // false
    /// ```
    ///
    /// - Parameter other: Another pattern, e.g. a deny rule.
    /// - Returns: `true` when the two sets of topics intersect; symmetric.
    public func overlaps(_ other: TopicPattern) -> Bool {
        let mine = self.tokens
        let theirs = other.tokens
        var index = 0
        while true {
            let mineEnded = index == mine.count
            let theirsEnded = index == theirs.count
            if theirsEnded || mineEnded {
                return theirsEnded && mineEnded
            }
            switch (mine[index], theirs[index]) {
            case (.multi, _), (_, .multi):
                // One or more tokens remain on both sides; `>` takes whatever the other needs.
                return true
            case (.literal(let a), .literal(let b)):
                guard a == b else { return false }
            case (.single, _), (_, .single):
                break
            }
            index += 1
        }
    }
}
