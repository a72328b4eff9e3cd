/// A failure of the client itself rather than an `ERR` from the server (that is ``ServerError``).
public struct ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable, Equatable {
        /// The connection closed (or was never open) before the reply arrived.
        case connectionClosed
        /// The first line from the server was not a valid greeting.
        case badGreeting
        /// The server sent bytes that are not a valid frame; the client closed the connection.
        case malformedFrame
        /// The server answered with a reply that does not fit the command (for example `OK SUB`
        /// to a `PUB`), which means the client and server are out of step.
        case unexpectedReply
        /// An argument would break the line framing: it holds a space, CR or LF where a single
        /// token is required.
        case invalidArgument
        /// TLS could not be set up: a CA, certificate or key file that cannot be read, or a failed
        /// handshake (an untrusted or misnamed server certificate, a refused client certificate).
        case tls
    }

    /// What went wrong.
    public var code: Code
    /// Detail for a person.
    public var message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What went wrong.
    ///   - message: Detail for a person.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `<code>: <message>`.
    public var description: String {
        "\(self.code.rawValue): \(self.message)"
    }

    /// Quotes text for an error message, cut to 200 characters, with control characters escaped
    /// so that the message stays on one line.
    static func quoted(_ text: some StringProtocol) -> String {
        let cut = text.count > 200 ? String(text.prefix(200)) + "..." : String(text)
        return "\"" + cut.unicodeScalars.map { $0.escaped(asASCII: false) }.joined() + "\""
    }
}
