public import Foundation

/// A Swift type that one column value (binary format) can be decoded into.
///
/// Conformances: `Int64`, `Int32`, `Int` (from int2, int4, int8), `Bool`, `Double` (float8, float4),
/// `String` (text, varchar, bpchar, name, json, unknown, and jsonb without its version byte),
/// `[UInt8]` (bytea), `Date` (timestamptz, timestamp), `Optional` (NULL is `nil`), and arrays of
/// ``PostgresArrayElement`` types from one-dimensional PostgreSQL arrays.
public protocol PostgresDecodable {
    /// Decodes a value.
    ///
    /// - Parameters:
    ///   - bytes: The value's binary bytes, valid only during the call; `nil` for SQL NULL.
    ///   - type: The column's type OID.
    /// - Returns: The decoded value.
    /// - Throws: `PostgresError(.decoding)` when the type does not match, the value is NULL and the
    ///   type has no NULL, or the bytes are malformed.
    static func decode(from bytes: UnsafeRawBufferPointer?, type: PostgresDataType) throws -> Self
}

extension PostgresDecodable {
    /// The bytes of a non-NULL value, or a decoding error naming `Self`.
    static func required(_ bytes: UnsafeRawBufferPointer?) throws -> UnsafeRawBufferPointer {
        guard let bytes else {
            throw PostgresError(.decoding, "unexpected NULL decoding \(Self.self)")
        }
        return bytes
    }

    /// A decoding error for a column type `Self` does not accept.
    static func mismatch(_ type: PostgresDataType) -> PostgresError {
        PostgresError(.decoding, "cannot decode \(type) as \(Self.self)")
    }

    /// Reads an integer column of any width as Int64, checking the byte count against the type.
    static func integer(_ bytes: UnsafeRawBufferPointer?, type: PostgresDataType) throws -> Int64 {
        let bytes = try required(bytes)
        switch (type, bytes.count) {
        case (.int8, 8):
            return WireBytes.read(Int64.self, at: 0, in: bytes)
        case (.int4, 4):
            return Int64(WireBytes.read(Int32.self, at: 0, in: bytes))
        case (.int2, 2):
            return Int64(WireBytes.read(Int16.self, at: 0, in: bytes))
        case (.oid, 4):
            return Int64(WireBytes.read(UInt32.self, at: 0, in: bytes))
        default:
            throw mismatch(type)
        }
    }
}

extension Int64: PostgresDecodable {
    /// Decodes int2, int4, int8 or oid.
    public static func decode(from bytes: UnsafeRawBufferPointer?, type: PostgresDataType) throws -> Int64 {
        try integer(bytes, type: type)
    }
}

extension Int: PostgresDecodable {
    /// Decodes int2, int4, int8 or oid.
    public static func decode(from bytes: UnsafeRawBufferPointer?, type: PostgresDataType) throws -> Int {
        Int(try integer(bytes, type: type))
    }
}

extension Int32: PostgresDecodable {
    /// Decodes int2 or int4, or an int8/oid whose value fits.
    public static func decode(from bytes: UnsafeRawBufferPointer?, type: PostgresDataType) throws -> Int32 {
        let value = try integer(bytes, type: type)
        guard let narrow = Int32(exactly: value) else {
            throw PostgresError(.decoding, "value \(value) of \(type) does not fit Int32")
        }
        return narrow
    }
}

extension Bool: PostgresDecodable {
    /// Decodes bool.
    public static func decode(from bytes: UnsafeRawBufferPointer?, type: PostgresDataType) throws -> Bool {
        let bytes = try required(bytes)
        guard type == .bool, bytes.count == 1 else {
            throw mismatch(type)
        }
        return bytes[0] != 0
    }
}

extension Double: PostgresDecodable {
    /// Decodes float8 or float4.
    public static func decode(from bytes: UnsafeRawBufferPointer?, type: PostgresDataType) throws -> Double {
        let bytes = try required(bytes)
        switch (type, bytes.count) {
        case (.float8, 8):
            return Double(bitPattern: WireBytes.read(UInt64.self, at: 0, in: bytes))
        case (.float4, 4):
            return Double(Float(bitPattern: WireBytes.read(UInt32.self, at: 0, in: bytes)))
        default:
            throw mismatch(type)
        }
    }
}

extension String: PostgresDecodable {
    /// Decodes the text-like types as UTF-8; for jsonb, checks and strips the version byte 1.
    public static func decode(from bytes: UnsafeRawBufferPointer?, type: PostgresDataType) throws -> String {
        let bytes = try required(bytes)
        switch type {
        case .text, .varchar, .bpchar, .name, .json, .unknown, .char:
            return String(decoding: bytes, as: UTF8.self)
        case .jsonb:
            guard bytes.first == 1 else {
                throw PostgresError(.decoding, "unsupported jsonb version \(bytes.first.map(String.init) ?? "none")")
            }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes.dropFirst()), as: UTF8.self)
        default:
            throw mismatch(type)
        }
    }
}

extension Date: PostgresDecodable {
    /// Decodes timestamptz or timestamp (the latter read as UTC).
    public static func decode(from bytes: UnsafeRawBufferPointer?, type: PostgresDataType) throws -> Date {
        let bytes = try required(bytes)
        guard type == .timestamptz || type == .timestamp, bytes.count == 8 else {
            throw mismatch(type)
        }
        return PostgresTimestamp.date(fromMicroseconds: WireBytes.read(Int64.self, at: 0, in: bytes))
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    /// `nil` for NULL, else the wrapped type's decoding.
    public static func decode(from bytes: UnsafeRawBufferPointer?, type: PostgresDataType) throws -> Wrapped? {
        guard let bytes else {
            return nil
        }
        return try Wrapped.decode(from: bytes, type: type)
    }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
    /// Decodes as the element type decides: `bytea` for `[UInt8]`, a one-dimensional array otherwise.
    public static func decode(from bytes: UnsafeRawBufferPointer?, type: PostgresDataType) throws -> [Element] {
        try Element.decodePostgresArray(from: try required(bytes), type: type)
    }
}
