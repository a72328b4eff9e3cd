/// The three-digit code of an `ERR` reply, modelled on HTTP status codes.
///
/// The raw value is the number written on the wire: `ERR 400 …`. Which codes close the
/// connection is not a property of the code but of the ``ProtocolError`` that carries it:
/// an oversize line is a 413 that closes, an oversize header value is a 400 that does not.
public enum ErrorCode: Int, Sendable, CaseIterable {
    /// The line is not valid protocol: unknown verb, missing or extra arguments, a bad name or value.
    case badRequest = 400
    /// The command needs an authenticated connection, or the credentials were wrong.
    case unauthorized = 401
    /// The account may not do this: publish to that topic, read that pattern or classification.
    case forbidden = 403
    /// The command names something that does not exist, such as an unknown subscription id.
    case notFound = 404
    /// The command clashes with the connection's state, such as a subscription id already in use.
    case conflict = 409
    /// A control line or payload is larger than the server accepts.
    case payloadTooLarge = 413
    /// A limit on in-flight work or on subscriptions was reached; retry later.
    case tooManyRequests = 429
    /// The server failed in a way the client cannot fix.
    case `internal` = 500
    /// The message store (PostgreSQL) is unreachable; nothing was stored, retry later.
    case unavailable = 503

    /// A short English phrase for the code, used when an error has no message of its own.
    public var reasonPhrase: String {
        switch self {
        case .badRequest: "bad request"
        case .unauthorized: "unauthorized"
        case .forbidden: "forbidden"
        case .notFound: "not found"
        case .conflict: "conflict"
        case .payloadTooLarge: "too large"
        case .tooManyRequests: "too many requests"
        case .internal: "internal error"
        case .unavailable: "storage unavailable"
        }
    }
}
