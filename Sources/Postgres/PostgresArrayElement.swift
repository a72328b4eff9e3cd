public import Foundation

/// A type whose Swift arrays map to a PostgreSQL value: `[UInt8]` to `bytea`, `[String]` to `text[]`,
/// `[[UInt8]]` to `bytea[]`, `[Int64]` to `int8[]`, `[Date]` to `timestamptz[]`, and so on.
///
/// Swift allows `Array` only one conformance to ``PostgresEncodable`` and ``PostgresDecodable``, so
/// those conformances ask the element type what the whole array becomes.
public protocol PostgresArrayElement {
    /// The bind for an array of this element type.
    ///
    /// - Parameter elements: The array.
    /// - Returns: The array as one bound parameter.
    static func postgresArrayBind(_ elements: [Self]) -> PostgresBind

    /// Decodes an array of this element type from one column value.
    ///
    /// - Parameters:
    ///   - bytes: The column's binary bytes.
    ///   - type: The column's type OID.
    /// - Returns: The array.
    /// - Throws: `PostgresError(.decoding)` on a type mismatch, a NULL element or truncated bytes.
    static func decodePostgresArray(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> [Self]
}

extension PostgresArrayElement where Self: PostgresDecodable {
    /// Decodes a one-dimensional PostgreSQL array element by element.
    ///
    /// - Parameters:
    ///   - bytes: The column's binary bytes.
    ///   - type: The column's type OID (the element type is read from the array header).
    /// - Returns: The array.
    /// - Throws: `PostgresError(.decoding)` on a malformed array or an element that does not decode.
    public static func decodePostgresArray(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> [Self]
    {
        try BinaryArray.decode(bytes) { element, elementType in try Self.decode(from: element, type: elementType) }
    }
}

extension UInt8: PostgresArrayElement {
    /// `bytea`: the bytes as they are.
    public static func postgresArrayBind(_ elements: [UInt8]) -> PostgresBind {
        PostgresBind(type: .bytea, bytes: elements)
    }

    /// Decodes `bytea`.
    public static func decodePostgresArray(from bytes: UnsafeRawBufferPointer, type: PostgresDataType) throws -> [UInt8]
    {
        guard type == .bytea else {
            throw PostgresError(.decoding, "cannot decode \(type) as [UInt8] (bytea)")
        }
        return Array(bytes)
    }
}

extension String: PostgresArrayElement {
    /// `text[]`.
    public static func postgresArrayBind(_ elements: [String]) -> PostgresBind {
        var payload = 0
        for element in elements {
            payload += element.utf8.count
        }
        return BinaryArray.encode(elements, elementType: .text, arrayType: .textArray, payloadBytes: payload) {
            $1.append(contentsOf: $0.utf8)
        }
    }
}

extension Array: PostgresArrayElement where Element == UInt8 {
    /// `bytea[]`.
    public static func postgresArrayBind(_ elements: [[UInt8]]) -> PostgresBind {
        var payload = 0
        for element in elements {
            payload += element.count
        }
        return BinaryArray.encode(elements, elementType: .bytea, arrayType: .byteaArray, payloadBytes: payload) {
            $1.append(contentsOf: $0)
        }
    }

    /// Decodes `bytea[]`.
    public static func decodePostgresArray(
        from bytes: UnsafeRawBufferPointer,
        type: PostgresDataType
    ) throws -> [[UInt8]] {
        try BinaryArray.decode(bytes) { element, elementType in
            try [UInt8].decode(from: element, type: elementType)
        }
    }
}

extension Int64: PostgresArrayElement {
    /// `int8[]`.
    public static func postgresArrayBind(_ elements: [Int64]) -> PostgresBind {
        BinaryArray.encode(elements, elementType: .int8, arrayType: .int8Array, payloadBytes: 8 * elements.count) {
            WireBytes.append($0, to: &$1)
        }
    }
}

extension Int: PostgresArrayElement {
    /// `int8[]`.
    public static func postgresArrayBind(_ elements: [Int]) -> PostgresBind {
        BinaryArray.encode(elements, elementType: .int8, arrayType: .int8Array, payloadBytes: 8 * elements.count) {
            WireBytes.append(Int64($0), to: &$1)
        }
    }
}

extension Int32: PostgresArrayElement {
    /// `int4[]`.
    public static func postgresArrayBind(_ elements: [Int32]) -> PostgresBind {
        BinaryArray.encode(elements, elementType: .int4, arrayType: .int4Array, payloadBytes: 4 * elements.count) {
            WireBytes.append($0, to: &$1)
        }
    }
}

extension Bool: PostgresArrayElement {
    /// `bool[]`.
    public static func postgresArrayBind(_ elements: [Bool]) -> PostgresBind {
        BinaryArray.encode(elements, elementType: .bool, arrayType: .boolArray, payloadBytes: elements.count) {
            $1.append($0 ? 1 : 0)
        }
    }
}

extension Double: PostgresArrayElement {
    /// `float8[]`.
    public static func postgresArrayBind(_ elements: [Double]) -> PostgresBind {
        BinaryArray.encode(elements, elementType: .float8, arrayType: .float8Array, payloadBytes: 8 * elements.count) {
            WireBytes.append($0.bitPattern, to: &$1)
        }
    }
}

extension Date: PostgresArrayElement {
    /// `timestamptz[]`.
    public static func postgresArrayBind(_ elements: [Date]) -> PostgresBind {
        BinaryArray.encode(
            elements,
            elementType: .timestamptz,
            arrayType: .timestamptzArray,
            payloadBytes: 8 * elements.count
        ) {
            WireBytes.append(PostgresTimestamp.microseconds(from: $0), to: &$1)
        }
    }
}
