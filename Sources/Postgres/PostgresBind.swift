/// One bound parameter of a statement: its type OID and its bytes in PostgreSQL's binary wire
/// format, or NULL.
///
/// Values become binds through ``PostgresEncodable``; the static constructors cover what has no
/// natural Swift type (`jsonb`, a text literal the server should parse).
///
/// ```swift
/// try connection.query("INSERT INTO t (id, doc) VALUES ($1, $2)", [42.postgresBind, .jsonb(#"{"a":1}"#)])
/// ```
public struct PostgresBind: Sendable {
    /// The parameter's type OID; `.unspecified` lets the server infer it.
    public var type: PostgresDataType
    /// The value's bytes, `nil` for SQL NULL.
    public var bytes: [UInt8]?
    /// Whether `bytes` are PostgreSQL's binary format (true) or its text format (false).
    public var isBinary: Bool

    /// Creates a bind from bytes that are already in the type's binary (or text) format.
    ///
    /// - Parameters:
    ///   - type: The parameter's type OID.
    ///   - bytes: The value in the type's wire format, `nil` for NULL.
    ///   - isBinary: `true` for the binary format (`*send`/`*recv` functions), `false` for text.
    public init(type: PostgresDataType, bytes: [UInt8]?, isBinary: Bool = true) {
        self.type = type
        self.bytes = bytes
        self.isBinary = isBinary
    }

    /// SQL NULL of a type the server infers from the statement.
    public static let null = PostgresBind(type: .unspecified, bytes: nil)

    /// A `jsonb` value; the server validates the JSON.
    ///
    /// - Parameter json: JSON text, for example `{"prio":"flash"}`.
    /// - Returns: A bind of type `jsonb`: version byte 1 followed by the UTF-8 text
    ///   (PostgreSQL `src/backend/utils/adt/jsonb.c`, `jsonb_recv`).
    public static func jsonb(_ json: String) -> PostgresBind {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(json.utf8.count + 1)
        bytes.append(1)
        bytes.append(contentsOf: json.utf8)
        return PostgresBind(type: .jsonb, bytes: bytes)
    }

    /// A value in PostgreSQL's text format that the server parses as the type it infers
    /// (or as `type`), for types this module has no binary encoder for (`uuid`, `numeric`, `inet`, ...).
    ///
    /// - Parameters:
    ///   - literal: The value as PostgreSQL would print it, for example `"2c7e...-..."` for a uuid.
    ///   - type: The type to parse it as; `.unspecified` lets the server infer it.
    /// - Returns: A text-format bind.
    public static func text(_ literal: String, type: PostgresDataType = .unspecified) -> PostgresBind {
        PostgresBind(type: type, bytes: Array(literal.utf8), isBinary: false)
    }
}

extension PostgresBind: PostgresEncodable {
    /// The bind itself, so binds and values mix in the variadic `query(_:_:)`.
    public var postgresBind: PostgresBind { self }
}
