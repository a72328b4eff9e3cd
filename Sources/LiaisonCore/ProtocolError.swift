/// A protocol-level failure that the server reports to the client as one `ERR` line.
///
/// Parsing functions in this module throw it with typed throws, so callers switch on ``code``
/// without casting. ``closesConnection`` is `true` only for framing errors after which the byte
/// stream can no longer be trusted to be in sync (an oversize line, a malformed or oversize PUB
/// size, a payload not followed by a line ending): the server writes ``replyLine`` and closes.
///
/// ```swift
/// let error = ProtocolError(.badRequest, "unknown command \"FOO\"")
/// error.replyLine  // ERR 400 unknown command "FOO"
/// ```
public struct ProtocolError: Error, Sendable, Equatable {
    /// The code written after `ERR`.
    public var code: ErrorCode
    /// Human-readable detail; may quote (sanitised) client input.
    public var message: String
    /// Whether the server must close the connection after writing the reply.
    public var closesConnection: Bool

    /// The longest message, in UTF-8 bytes, that ``replyLine`` writes; the rest is cut with "...".
    public static let maxMessageBytes = 512

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The `ERR` code.
    ///   - message: Detail for a person reading the reply; control characters are replaced on output.
    ///   - closesConnection: `true` for a fatal framing error after which the stream is out of sync.
    public init(_ code: ErrorCode, _ message: String, closesConnection: Bool = false) {
        self.code = code
        self.message = message
        self.closesConnection = closesConnection
    }

    /// The reply line without its line ending: `ERR <code> <message>`.
    ///
    /// The message is sanitised so the reply is always exactly one line: every control character
    /// (C0, DEL, C1, and so CR and LF) becomes `?`, and a message longer than
    /// ``maxMessageBytes`` bytes is cut at a character boundary. An empty message is replaced by
    /// the code's ``ErrorCode/reasonPhrase``.
    public var replyLine: String {
        let text = self.message.isEmpty ? self.code.reasonPhrase : self.message
        var line = "ERR \(self.code.rawValue) "
        line.reserveCapacity(line.utf8.count + min(text.utf8.count, Self.maxMessageBytes + 3))
        var bytes = 0
        for scalar in text.unicodeScalars {
            let width = UTF8.width(scalar)
            if bytes + width > Self.maxMessageBytes {
                line += "..."
                break
            }
            bytes += width
            let value = scalar.value
            if value < 0x20 || (0x7F...0x9F).contains(value) {
                line.unicodeScalars.append("?")
            } else {
                line.unicodeScalars.append(scalar)
            }
        }
        return line
    }
}

extension ProtocolError {
    /// A 400 that leaves the connection open: the usual result of a bad but well-framed line.
    static func badRequest(_ message: String) -> ProtocolError {
        ProtocolError(.badRequest, message)
    }

    /// A 400 after which the server closes the connection, for framing errors.
    static func fatalBadRequest(_ message: String) -> ProtocolError {
        ProtocolError(.badRequest, message, closesConnection: true)
    }
}
