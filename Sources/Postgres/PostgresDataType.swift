/// A PostgreSQL type OID, as stored in `pg_type.oid` and sent with every bound parameter and result column.
///
/// The static members are the built-in OIDs from PostgreSQL's `src/include/catalog/pg_type.dat`;
/// they never change between server versions. Other types (extensions, enums) use `init(rawValue:)`.
public struct PostgresDataType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The OID.
    public var rawValue: UInt32

    /// Wraps an OID.
    ///
    /// - Parameter rawValue: The type's OID.
    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// OID 0: let the server infer the parameter's type from the statement.
    public static let unspecified = PostgresDataType(rawValue: 0)
    /// `bool`, 1 byte.
    public static let bool = PostgresDataType(rawValue: 16)
    /// `bytea`, raw bytes.
    public static let bytea = PostgresDataType(rawValue: 17)
    /// `"char"`, one byte.
    public static let char = PostgresDataType(rawValue: 18)
    /// `name`, a 63-byte identifier, sent as text.
    public static let name = PostgresDataType(rawValue: 19)
    /// `int8` / `bigint`, 8 bytes big-endian.
    public static let int8 = PostgresDataType(rawValue: 20)
    /// `int2` / `smallint`, 2 bytes big-endian.
    public static let int2 = PostgresDataType(rawValue: 21)
    /// `int4` / `integer`, 4 bytes big-endian.
    public static let int4 = PostgresDataType(rawValue: 23)
    /// `text`, UTF-8 bytes without a terminator.
    public static let text = PostgresDataType(rawValue: 25)
    /// `oid`, 4 bytes big-endian unsigned.
    public static let oid = PostgresDataType(rawValue: 26)
    /// `json`, sent as text.
    public static let json = PostgresDataType(rawValue: 114)
    /// `float4` / `real`, IEEE 754 single, big-endian.
    public static let float4 = PostgresDataType(rawValue: 700)
    /// `float8` / `double precision`, IEEE 754 double, big-endian.
    public static let float8 = PostgresDataType(rawValue: 701)
    /// `unknown`, an untyped literal, sent as text.
    public static let unknown = PostgresDataType(rawValue: 705)
    /// `bpchar` / `char(n)`, sent as text.
    public static let bpchar = PostgresDataType(rawValue: 1042)
    /// `varchar`, sent as text.
    public static let varchar = PostgresDataType(rawValue: 1043)
    /// `timestamp` without time zone: Int64 microseconds since 2000-01-01 00:00:00.
    public static let timestamp = PostgresDataType(rawValue: 1114)
    /// `timestamptz`: Int64 microseconds since 2000-01-01 00:00:00 UTC.
    public static let timestamptz = PostgresDataType(rawValue: 1184)
    /// `uuid`, 16 bytes.
    public static let uuid = PostgresDataType(rawValue: 2950)
    /// `jsonb`: a version byte (1) followed by the JSON text.
    public static let jsonb = PostgresDataType(rawValue: 3802)

    /// `bool[]`.
    public static let boolArray = PostgresDataType(rawValue: 1000)
    /// `bytea[]`.
    public static let byteaArray = PostgresDataType(rawValue: 1001)
    /// `int2[]`.
    public static let int2Array = PostgresDataType(rawValue: 1005)
    /// `int4[]`.
    public static let int4Array = PostgresDataType(rawValue: 1007)
    /// `text[]`.
    public static let textArray = PostgresDataType(rawValue: 1009)
    /// `varchar[]`.
    public static let varcharArray = PostgresDataType(rawValue: 1015)
    /// `int8[]`.
    public static let int8Array = PostgresDataType(rawValue: 1016)
    /// `float8[]`.
    public static let float8Array = PostgresDataType(rawValue: 1022)
    /// `timestamp[]`.
    public static let timestampArray = PostgresDataType(rawValue: 1115)
    /// `timestamptz[]`.
    public static let timestamptzArray = PostgresDataType(rawValue: 1185)
    /// `jsonb[]`.
    public static let jsonbArray = PostgresDataType(rawValue: 3807)

    /// The OID in decimal, for error messages.
    public var description: String { "oid \(rawValue)" }
}
