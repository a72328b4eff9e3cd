public import Foundation

/// A Swift value that can be bound as a statement parameter, in PostgreSQL's binary wire format.
///
/// Conformances: `Int64` (int8), `Int32` (int4), `Int` (int8), `Bool`, `Double` (float8),
/// `String` (text), `[UInt8]` (bytea), `Date` (timestamptz), `Optional` (nil is NULL) and the
/// one-dimensional arrays of ``PostgresArrayElement`` types (`[String]` is text[], `[[UInt8]]` is
/// bytea[], `[Int64]` is int8[], `[Date]` is timestamptz[], ...).
public protocol PostgresEncodable {
    /// The value as a bound parameter.
    var postgresBind: PostgresBind { get }
}

extension Int64: PostgresEncodable {
    /// `int8`: 8 bytes big-endian.
    public var postgresBind: PostgresBind {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8)
        WireBytes.append(self, to: &bytes)
        return PostgresBind(type: .int8, bytes: bytes)
    }
}

extension Int32: PostgresEncodable {
    /// `int4`: 4 bytes big-endian.
    public var postgresBind: PostgresBind {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4)
        WireBytes.append(self, to: &bytes)
        return PostgresBind(type: .int4, bytes: bytes)
    }
}

extension Int: PostgresEncodable {
    /// `int8`: 8 bytes big-endian.
    public var postgresBind: PostgresBind { Int64(self).postgresBind }
}

extension Bool: PostgresEncodable {
    /// `bool`: one byte, 1 or 0.
    public var postgresBind: PostgresBind { PostgresBind(type: .bool, bytes: [self ? 1 : 0]) }
}

extension Double: PostgresEncodable {
    /// `float8`: the IEEE 754 bit pattern, 8 bytes big-endian.
    public var postgresBind: PostgresBind {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8)
        WireBytes.append(bitPattern, to: &bytes)
        return PostgresBind(type: .float8, bytes: bytes)
    }
}

extension String: PostgresEncodable {
    /// `text`: the UTF-8 bytes (the connection's client encoding is always UTF8).
    public var postgresBind: PostgresBind { PostgresBind(type: .text, bytes: Array(utf8)) }
}

extension Date: PostgresEncodable {
    /// `timestamptz`: Int64 microseconds since 2000-01-01 00:00:00 UTC, rounded to the nearest microsecond.
    public var postgresBind: PostgresBind {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8)
        WireBytes.append(PostgresTimestamp.microseconds(from: self), to: &bytes)
        return PostgresBind(type: .timestamptz, bytes: bytes)
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    /// The wrapped value's bind, or NULL of the wrapped type when `nil`.
    public var postgresBind: PostgresBind {
        switch self {
        case .some(let value):
            return value.postgresBind
        case .none:
            return .null
        }
    }
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    /// The array as the element type decides: `bytea` for `[UInt8]`, a one-dimensional
    /// PostgreSQL array for everything else.
    public var postgresBind: PostgresBind { Element.postgresArrayBind(self) }
}
