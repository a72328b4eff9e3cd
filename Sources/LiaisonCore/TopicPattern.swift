/// A subscription pattern: a topic whose tokens may be wildcards.
///
/// `*` stands for exactly one token, `>` for one or more tokens and may only be the last token:
/// `field.*.*.early-warning` matches `field.mm.sittwe.early-warning`; `hq.>` matches `hq.ohchr`
/// and `hq.ohchr.guidance-note` but not `hq` itself. A wildcard is always a whole token: `a*` and
/// `a.b>` are invalid rather than literal. The wildcard grammar is the one NATS subjects use.
///
/// ```swift
/// let pattern = try TopicPattern("field.*.*.early-warning")
/// pattern.matches(try Topic("field.mm.sittwe.early-warning"))  // true
/// pattern.sqlLikePrefix  // "field.%"
/// ```
public struct TopicPattern: Hashable, Sendable, CustomStringConvertible {
    /// One token of a pattern.
    public enum Token: Hashable, Sendable {
        /// A token that must equal the topic's token byte for byte.
        case literal(String)
        /// `*`: any one token.
        case single
        /// `>`: one or more tokens; only ever the last token.
        case multi
    }

    /// The pattern text, always valid.
    public let value: String
    /// The parsed tokens, in order; never empty.
    public let tokens: [Token]
    /// Whether the pattern has no wildcard, so it matches exactly one topic.
    public let isLiteral: Bool
    /// The byte length of ``literalPrefix``.
    private let literalPrefixLength: Int

    /// Validates and parses a pattern.
    ///
    /// - Parameter value: The pattern text.
    /// - Throws: ``ProtocolError`` 400 when `value` is empty or longer than 255 bytes, has an
    ///   empty token or a byte outside `[A-Za-z0-9_.*>-]`, uses `*` or `>` inside a token, or
    ///   has `>` anywhere but last.
    public init(_ value: String) throws(ProtocolError) {
        try self.init(value[...])
    }

    /// Validates a slice of a line and parses it into a pattern.
    ///
    /// - Parameter value: The pattern text, usually a token of a control line.
    /// - Throws: ``ProtocolError`` 400 under the same conditions as the `String` initializer.
    public init(_ value: Substring) throws(ProtocolError) {
        let utf8 = value.utf8
        guard !utf8.isEmpty else {
            throw .badRequest("pattern is empty")
        }
        guard utf8.count <= Topic.maxLength else {
            throw .badRequest("pattern is longer than \(Topic.maxLength) bytes")
        }
        var tokens: [Token] = []
        var prefixLength: Int?
        var offset = 0
        for token in value.split(separator: ".", omittingEmptySubsequences: false) {
            if token.isEmpty {
                throw .badRequest("pattern \(Quote.text(value)) has an empty token")
            }
            if let last = tokens.last, last == .multi {
                throw .badRequest("pattern \(Quote.text(value)) has '>' before its last token")
            }
            if token == "*" || token == ">" {
                tokens.append(token == "*" ? .single : .multi)
                prefixLength = prefixLength ?? offset
            } else {
                for byte in token.utf8 where !ASCII.isNameByte(byte) {
                    if byte == ASCII.star || byte == ASCII.greaterThan {
                        throw .badRequest(
                            "pattern \(Quote.text(value)): '*' and '>' must be whole tokens"
                        )
                    }
                    throw .badRequest(
                        "pattern \(Quote.text(value)) may hold only A-Z a-z 0-9 _ - * > and dots between tokens"
                    )
                }
                tokens.append(.literal(String(token)))
            }
            offset += token.utf8.count + 1
        }
        self.value = String(value)
        self.tokens = tokens
        self.isLiteral = prefixLength == nil
        self.literalPrefixLength = prefixLength ?? utf8.count
    }

    /// The pattern text.
    public var description: String {
        self.value
    }

    /// The topic text before the first wildcard token, including its trailing dot.
    ///
    /// `field.mm.>` gives `field.mm.`, `*.x` and `>` give the empty string, and a pattern with no
    /// wildcard gives its whole ``value``. Every matching topic starts with this prefix, which
    /// makes it a cheap pre-filter for an index or a database query.
    public var literalPrefix: String {
        String(self.value.utf8.prefix(self.literalPrefixLength))!
    }

    /// ``literalPrefix`` as a SQL `LIKE` pattern: `%`, `_` and `\` escaped with a backslash,
    /// then `%` appended.
    ///
    /// Use it with `LIKE $1 ESCAPE '\'` (PostgreSQL's default escape) as a pre-filter; it may
    /// select topics that ``matches(_:)`` rejects (`hq.%` also selects `hq.a.b` for `hq.*`, and
    /// the literal pattern `a.b` gives `a.b%`, which also selects `a.bc`), so apply
    /// ``matches(_:)`` to the rows it returns.
    public var sqlLikePrefix: String {
        var escaped = ""
        escaped.reserveCapacity(self.literalPrefixLength + 4)
        for character in self.literalPrefix {
            if character == "%" || character == "_" || character == "\\" {
                escaped.append("\\")
            }
            escaped.append(character)
        }
        escaped.append("%")
        return escaped
    }

    /// Whether `topic` is matched by this pattern.
    ///
    /// Walks the UTF-8 bytes of both texts once, token by token, without allocating: this runs
    /// for every published message against every candidate subscription.
    ///
    /// - Parameter topic: A concrete topic.
    /// - Returns: `true` when every pattern token matches: a literal equals the topic's token,
    ///   `*` consumes one token, `>` consumes all remaining tokens (at least one).
    public func matches(_ topic: Topic) -> Bool {
        if self.isLiteral {
            return self.value == topic.value
        }
        var patternText = self.value
        var topicText = topic.value
        return patternText.withUTF8 { pattern in
            topicText.withUTF8 { topic in
                Self.matches(pattern: pattern, topic: topic)
            }
        }
    }

    /// Patterns are equal when their texts are; the tokens follow from the text.
    public static func == (lhs: TopicPattern, rhs: TopicPattern) -> Bool {
        lhs.value == rhs.value
    }

    /// Hashes the pattern text, consistently with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.value)
    }

    /// Matches valid pattern bytes against valid topic bytes.
    private static func matches(pattern: UnsafeBufferPointer<UInt8>, topic: UnsafeBufferPointer<UInt8>) -> Bool {
        var p = 0
        var t = 0
        // Invariant at the top of the loop: both indices are at the start of a token, and both
        // texts have one there (validation rules out empty tokens and trailing dots).
        while true {
            let isLastPatternToken = p + 1 == pattern.count || pattern[p + 1] == ASCII.dot
            if pattern[p] == ASCII.greaterThan && isLastPatternToken {
                return true
            }
            if pattern[p] == ASCII.star && isLastPatternToken {
                p += 1
                while t < topic.count && topic[t] != ASCII.dot {
                    t += 1
                }
            } else {
                while p < pattern.count && pattern[p] != ASCII.dot {
                    guard t < topic.count, topic[t] == pattern[p] else {
                        return false
                    }
                    p += 1
                    t += 1
                }
                if t < topic.count && topic[t] != ASCII.dot {
                    return false
                }
            }
            // Both are now at a dot or at their end.
            let patternEnded = p == pattern.count
            let topicEnded = t == topic.count
            if patternEnded || topicEnded {
                return patternEnded && topicEnded
            }
            p += 1
            t += 1
        }
    }
}
