/// An error from the `Postgres` module: a failed connection, a server error with its SQLSTATE,
/// a value that could not be decoded, or a misuse of the API.
///
/// Server errors keep the fields PostgreSQL sends (SQLSTATE, primary message, detail, hint), so
/// callers can branch on `sqlState` (for example `"23505"`, unique violation) instead of parsing text.
/// SQLSTATE codes are listed in the PostgreSQL manual, appendix A "PostgreSQL Error Codes".
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; extensible, compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// The connection could not be established (or re-established by `reset()`).
        public static let connectionFailed = Code("connectionFailed")
        /// An established connection broke, or was already closed.
        public static let connectionLost = Code("connectionLost")
        /// The server reported an error; `sqlState` holds its SQLSTATE.
        public static let server = Code("server")
        /// A column value could not be decoded into the requested Swift type (wrong type, NULL, bad bytes).
        public static let decoding = Code("decoding")
        /// The caller passed something this module cannot use (unknown column name, bad identifier, ...).
        public static let invalidArgument = Code("invalidArgument")
        /// A `COPY ... FROM STDIN` could not be carried out (data not accepted, or the feed threw).
        public static let copyFailed = Code("copyFailed")
        /// A pipelined statement did not run because an earlier statement of the same pipeline failed.
        public static let pipelineAborted = Code("pipelineAborted")
        /// A deadline passed: a round trip got no complete answer within
        /// ``ConnectionOptions/statementTimeoutMilliseconds`` (the connection was then closed, and
        /// whether the statement took effect is unknown), or a queued job was not started by the
        /// deadline given to ``PostgresExecutor/submit(deadline:_:completion:)`` (it never ran).
        public static let timeout = Code("timeout")

        /// The code's name, for logs.
        public var description: String { name }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The five-character SQLSTATE the server sent, for example `"23505"`; `nil` for client-side errors.
    public var sqlState: String?
    /// The primary, human-readable message.
    public var message: String
    /// The server's optional DETAIL line.
    public var detail: String?
    /// The server's optional HINT line.
    public var hint: String?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: What kind of failure this is.
    ///   - message: The primary message.
    ///   - sqlState: The server's SQLSTATE, if the server reported it.
    ///   - detail: The server's DETAIL, if any.
    ///   - hint: The server's HINT, if any.
    public init(
        _ code: Code,
        _ message: String,
        sqlState: String? = nil,
        detail: String? = nil,
        hint: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
    }

    /// Whether the connection this error came from can no longer be trusted and should be replaced.
    ///
    /// True for `.connectionFailed`, `.connectionLost` and `.timeout` (a timed-out connection is
    /// closed), for SQLSTATE class 08 (connection exception), and for 57P01 `admin_shutdown`,
    /// 57P02 `crash_shutdown` and 57P03 `cannot_connect_now`.
    public var isConnectionError: Bool {
        if code == .connectionFailed || code == .connectionLost || code == .timeout {
            return true
        }
        guard let sqlState else {
            return false
        }
        return sqlState.hasPrefix("08") || sqlState == "57P01" || sqlState == "57P02" || sqlState == "57P03"
    }

    /// `code: message` followed by SQLSTATE, detail and hint where present, on one line.
    public var description: String {
        var text = "PostgresError.\(code): \(message)"
        if let sqlState {
            text += " (SQLSTATE \(sqlState))"
        }
        if let detail {
            text += " DETAIL: \(detail)"
        }
        if let hint {
            text += " HINT: \(hint)"
        }
        return text
    }
}
