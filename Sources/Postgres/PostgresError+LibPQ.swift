internal import CLibPQ

extension PostgresError {
    /// The error a failed `PGresult` describes, with its SQLSTATE, detail and hint.
    ///
    /// When the connection is broken afterwards the code is `.connectionLost` (an SQLSTATE such as
    /// 57P01 is kept); otherwise `.server`.
    ///
    /// - Parameters:
    ///   - result: A result whose status is an error.
    ///   - connection: The `PGconn *` it came from, to check whether the connection survived.
    init(result: OpaquePointer, connection: OpaquePointer) {
        let sqlState = PostgresError.field(result, CLIBPQ_DIAG_SQLSTATE)
        let primary = PostgresError.field(result, CLIBPQ_DIAG_MESSAGE_PRIMARY)
        let fallback = PostgresError.trimmed(PQresultErrorMessage(result)) ?? "unknown server error"
        let broken = PQstatus(connection) == CONNECTION_BAD
        self.init(
            broken ? .connectionLost : .server,
            primary ?? fallback,
            sqlState: sqlState,
            detail: PostgresError.field(result, CLIBPQ_DIAG_MESSAGE_DETAIL),
            hint: PostgresError.field(result, CLIBPQ_DIAG_MESSAGE_HINT)
        )
    }

    /// An error from the connection's last error message (`PQerrorMessage`), for calls that failed
    /// without a result; `.connectionLost` when the connection is broken, else `fallbackCode`.
    ///
    /// - Parameters:
    ///   - connection: The `PGconn *`.
    ///   - fallbackCode: The code when the connection is still up.
    ///   - context: What was being done, prefixed to the message.
    init(connection: OpaquePointer, fallbackCode: Code, context: String) {
        let message = PostgresError.trimmed(PQerrorMessage(connection)) ?? "no message from libpq"
        let code = PQstatus(connection) == CONNECTION_BAD ? Code.connectionLost : fallbackCode
        self.init(code, "\(context): \(message)")
    }

    /// The connection-closed error for calls after `close()`.
    static let closed = PostgresError(.connectionLost, "connection is closed")

    private static func field(_ result: OpaquePointer, _ code: Int32) -> String? {
        guard let value = PQresultErrorField(result, code) else {
            return nil
        }
        return String(cString: value)
    }

    static func trimmed(_ text: UnsafePointer<CChar>?) -> String? {
        guard let text else {
            return nil
        }
        var string = String(cString: text)
        while string.last?.isWhitespace == true {
            string.removeLast()
        }
        return string.isEmpty ? nil : string
    }
}
