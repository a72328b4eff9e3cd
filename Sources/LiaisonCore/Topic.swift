/// A concrete topic a message is published to, such as `field.mm.sittwe.early-warning`.
///
/// A topic is 1–255 bytes of tokens made of `[A-Za-z0-9_-]`, separated by single dots; no token
/// is empty, so there is no leading, trailing or doubled dot. Topics are case-sensitive and
/// ASCII-only, so comparing them compares their bytes. Wildcards belong to ``TopicPattern``.
public struct Topic: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The longest topic, in bytes.
    public static let maxLength = 255

    /// The topic text, always valid.
    public let value: String

    /// Validates and wraps a topic.
    ///
    /// - Parameter value: The topic text.
    /// - Throws: ``ProtocolError`` 400 when `value` is empty, longer than 255 bytes, has an empty
    ///   token, or holds a byte outside `[A-Za-z0-9_.-]`.
    public init(_ value: String) throws(ProtocolError) {
        try Self.validate(value[...])
        self.value = value
    }

    /// Validates a slice of a line and copies it into a topic.
    ///
    /// - Parameter value: The topic text, usually a token of a control line.
    /// - Throws: ``ProtocolError`` 400 under the same conditions as the `String` initializer.
    public init(_ value: Substring) throws(ProtocolError) {
        try Self.validate(value)
        self.value = String(value)
    }

    /// The dot-separated tokens; never empty, and no token is empty.
    public var tokens: [Substring] {
        self.value.split(separator: ".", omittingEmptySubsequences: false)
    }

    /// The topic text.
    public var description: String {
        self.value
    }

    /// Orders topics by their bytes, which for ASCII text is the order `String` uses.
    public static func < (lhs: Topic, rhs: Topic) -> Bool {
        lhs.value < rhs.value
    }

    private static func validate(_ text: Substring) throws(ProtocolError) {
        let utf8 = text.utf8
        guard !utf8.isEmpty else {
            throw .badRequest("topic is empty")
        }
        guard utf8.count <= maxLength else {
            throw .badRequest("topic is longer than \(maxLength) bytes")
        }
        var tokenLength = 0
        for byte in utf8 {
            if byte == ASCII.dot {
                guard tokenLength > 0 else {
                    throw .badRequest("topic \(Quote.text(text)) has an empty token")
                }
                tokenLength = 0
            } else if ASCII.isNameByte(byte) {
                tokenLength += 1
            } else {
                throw .badRequest(
                    "topic \(Quote.text(text)) may hold only A-Z a-z 0-9 _ - and dots between tokens"
                )
            }
        }
        guard tokenLength > 0 else {
            throw .badRequest("topic \(Quote.text(text)) has an empty token")
        }
    }
}
