/// The ordered `key=value` headers of a message, or the extra options of a command.
///
/// Keys are 1–64 bytes of `[A-Za-z0-9_.-]` and unique; values are 1–1024 bytes of UTF-8 with no
/// ASCII space and no control character (C0, DEL or C1). Three keys have meaning to the daemon
/// and are checked when set: `id` (idempotency key, 1–128 bytes), `prio` (``Priority``) and
/// `class` (``Classification``). Every other key is kept, in the order given, and passed through
/// to subscribers.
///
/// ```swift
/// let headers = try Headers(parsing: ["id=gn-19", "prio=urgent"])
/// headers.priority  // .urgent
/// headers.wireText  // "id=gn-19 prio=urgent"
/// ```
public struct Headers: Sendable, Equatable, Sequence {
    /// The longest key, in bytes.
    public static let maxKeyLength = 64
    /// The longest value, in bytes.
    public static let maxValueLength = 1024
    /// The longest `id` value, in bytes.
    public static let maxIdLength = 128

    private struct Field: Sendable, Equatable {
        var key: String
        var value: String
    }

    private var fields: [Field]

    /// Creates empty headers.
    public init() {
        self.fields = []
    }

    /// Parses `key=value` tokens, as they follow the positional arguments of a control line.
    ///
    /// - Parameter tokens: The tokens, each split at its first `=`.
    /// - Throws: ``ProtocolError`` 400 when a token has no `=`, a key or value is invalid, a known
    ///   key has a value it does not accept, or a key repeats.
    public init(parsing tokens: some Sequence<Substring>) throws(ProtocolError) {
        self.fields = []
        for token in tokens {
            guard let equals = token.utf8.firstIndex(of: ASCII.equals) else {
                throw .badRequest("expected key=value, got \(Quote.text(token))")
            }
            let key = token[..<equals]
            let value = token[token.utf8.index(after: equals)...]
            try Self.validate(key: key, value: value)
            if self.index(of: key) != nil {
                throw .badRequest("duplicate key \(Quote.text(key))")
            }
            self.fields.append(Field(key: String(key), value: String(value)))
        }
    }

    /// The value for `key`, or `nil` when it is absent.
    ///
    /// - Parameter key: A header key; keys are case-sensitive.
    public subscript(key: String) -> String? {
        self.index(of: key[...]).map { self.fields[$0].value }
    }

    /// The idempotency key: the value of `id`.
    public var id: String? {
        self["id"]
    }

    /// The value of `prio`; ``Priority/routine`` when absent.
    public var priority: Priority {
        self["prio"].flatMap(Priority.init(rawValue:)) ?? .routine
    }

    /// The value of `class`; ``Classification/internal`` when absent.
    public var classification: Classification {
        self["class"].flatMap(Classification.init(rawValue:)) ?? .internal
    }

    /// Whether there are no headers.
    public var isEmpty: Bool {
        self.fields.isEmpty
    }

    /// The number of headers.
    public var count: Int {
        self.fields.count
    }

    /// Sets `key` to `value`: replaces the value in place when the key exists, appends otherwise.
    ///
    /// - Parameters:
    ///   - key: A header key.
    ///   - value: Its value.
    /// - Throws: ``ProtocolError`` 400 when the key or value is invalid, or a known key gets a
    ///   value it does not accept.
    public mutating func set(_ key: String, _ value: String) throws(ProtocolError) {
        try Self.validate(key: key[...], value: value[...])
        if let index = self.index(of: key[...]) {
            self.fields[index].value = value
        } else {
            self.fields.append(Field(key: key, value: value))
        }
    }

    /// The headers as written on the wire: `k=v` pairs joined by single spaces; empty when there
    /// are none.
    public var wireText: String {
        var text = ""
        for field in self.fields {
            if !text.isEmpty {
                text += " "
            }
            text += field.key
            text += "="
            text += field.value
        }
        return text
    }

    /// Iterates `(key, value)` pairs in order.
    public func makeIterator() -> some IteratorProtocol<(key: String, value: String)> {
        self.fields.lazy.map { (key: $0.key, value: $0.value) }.makeIterator()
    }

    private func index(of key: Substring) -> Int? {
        self.fields.firstIndex { $0.key.utf8.elementsEqual(key.utf8) }
    }

    private static func validate(key: Substring, value: Substring) throws(ProtocolError) {
        let keyBytes = key.utf8
        guard !keyBytes.isEmpty, keyBytes.count <= maxKeyLength else {
            throw .badRequest("header key \(Quote.text(key)) must be 1-\(maxKeyLength) bytes")
        }
        for byte in keyBytes where !(ASCII.isNameByte(byte) || byte == ASCII.dot) {
            throw .badRequest("header key \(Quote.text(key)) may hold only A-Z a-z 0-9 _ . -")
        }
        let valueBytes = value.utf8
        guard !valueBytes.isEmpty, valueBytes.count <= maxValueLength else {
            throw .badRequest("value of \(Quote.text(key)) must be 1-\(maxValueLength) bytes")
        }
        var previous: UInt8 = 0
        for byte in valueBytes {
            // 0xC2 0x80...0x9F is the UTF-8 form of the C1 controls U+0080...U+009F.
            if byte <= ASCII.space || byte == 0x7F || (previous == 0xC2 && byte <= 0x9F) {
                throw .badRequest("value of \(Quote.text(key)) holds a space or control character")
            }
            previous = byte
        }
        switch key {
        case "id":
            guard valueBytes.count <= maxIdLength else {
                throw .badRequest("id must be 1-\(maxIdLength) bytes")
            }
        case "prio":
            guard Priority(rawValue: String(value)) != nil else {
                throw .badRequest("prio must be flash, urgent or routine, got \(Quote.text(value))")
            }
        case "class":
            guard Classification(rawValue: String(value)) != nil else {
                throw .badRequest(
                    "class must be public, internal, confidential or strictly-confidential, got \(Quote.text(value))"
                )
            }
        default:
            break
        }
    }
}
