/// An `ERR <code> <text>` reply from the server, thrown by the command that caused it.
///
/// The code is the three-digit, HTTP-like number of protocol v1 (400 syntax, 401 not
/// authenticated, 403 forbidden, 404 unknown, 409 conflict, 413 too large, 429 too many,
/// 503 storage unavailable); `text` is the rest of the line as sent.
public struct ServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The three-digit code after `ERR`.
    public var code: Int
    /// The human-readable text after the code; may be empty.
    public var text: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The three-digit code.
    ///   - text: The text after the code.
    public init(code: Int, text: String) {
        self.code = code
        self.text = text
    }

    /// Parses a reply line of the form `ERR <code> <text>`.
    ///
    /// - Parameter line: The reply line without its line ending.
    /// - Returns: The error, or `nil` when the line is not an `ERR` line with a numeric code.
    public init?(replyLine line: String) {
        guard line.hasPrefix("ERR ") else {
            return nil
        }
        let rest = line.dropFirst(4)
        let codeText = rest.prefix { $0 != " " }
        guard let code = Int(codeText) else {
            return nil
        }
        self.code = code
        self.text = String(rest.dropFirst(codeText.count).drop { $0 == " " })
    }

    /// The error as the server wrote it: `ERR <code> <text>`.
    public var description: String {
        self.text.isEmpty ? "ERR \(self.code)" : "ERR \(self.code) \(self.text)"
    }
}
