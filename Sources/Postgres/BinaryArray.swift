/// PostgreSQL's binary array format, one dimension only.
///
/// Layout (PostgreSQL `src/backend/utils/adt/arrayfuncs.c`, `array_send` / `array_recv`), all big-endian:
/// ```
/// int32 ndim          0 for an empty array, else 1
/// int32 flags         1 when the array contains NULLs (array_recv accepts 0 for "don't know")
/// uint32 element OID
/// ndim times: int32 length, int32 lower bound (1)
/// per element: int32 byte length (-1 = NULL), then the element's binary bytes
/// ```
enum BinaryArray {
    /// Encodes `elements` into one buffer, reserved up front, with no allocation per element.
    ///
    /// - Parameters:
    ///   - elements: The elements, in order.
    ///   - elementType: The element type's OID.
    ///   - arrayType: The array type's OID.
    ///   - payloadBytes: The total of the elements' encoded sizes, in bytes (for the reservation).
    ///   - write: Appends one element's binary bytes (without the length prefix).
    /// - Returns: The array bind.
    static func encode<Element>(
        _ elements: [Element],
        elementType: PostgresDataType,
        arrayType: PostgresDataType,
        payloadBytes: Int,
        write: (Element, inout [UInt8]) -> Void
    ) -> PostgresBind {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20 + 4 * elements.count + payloadBytes)
        WireBytes.append(Int32(elements.isEmpty ? 0 : 1), to: &bytes)
        WireBytes.append(Int32(0), to: &bytes)
        WireBytes.append(elementType.rawValue, to: &bytes)
        if !elements.isEmpty {
            WireBytes.append(Int32(elements.count), to: &bytes)
            WireBytes.append(Int32(1), to: &bytes)
        }
        for element in elements {
            let lengthOffset = bytes.count
            WireBytes.append(Int32(0), to: &bytes)
            write(element, &bytes)
            WireBytes.patch(Int32(bytes.count - lengthOffset - 4), at: lengthOffset, in: &bytes)
        }
        return PostgresBind(type: arrayType, bytes: bytes)
    }

    /// Decodes a one-dimensional array, handing each element's bytes (`nil` for NULL) to `element`.
    ///
    /// - Parameters:
    ///   - buffer: The array's binary bytes.
    ///   - element: Decodes one element from its bytes and the element type OID found in the header.
    /// - Returns: The decoded elements, in order.
    /// - Throws: `PostgresError(.decoding)` when the bytes are truncated or the array has more than one
    ///   dimension, or whatever `element` throws.
    static func decode<Element>(
        _ buffer: UnsafeRawBufferPointer,
        element: (UnsafeRawBufferPointer?, PostgresDataType) throws -> Element
    ) throws -> [Element] {
        guard buffer.count >= 12 else {
            throw PostgresError(.decoding, "array header truncated: \(buffer.count) bytes")
        }
        let dimensions = WireBytes.read(Int32.self, at: 0, in: buffer)
        let elementType = PostgresDataType(rawValue: WireBytes.read(UInt32.self, at: 8, in: buffer))
        if dimensions == 0 {
            return []
        }
        guard dimensions == 1 else {
            throw PostgresError(.decoding, "cannot decode an array of \(dimensions) dimensions into a Swift array")
        }
        guard buffer.count >= 20 else {
            throw PostgresError(.decoding, "array dimension truncated: \(buffer.count) bytes")
        }
        let count = Int(WireBytes.read(Int32.self, at: 12, in: buffer))
        var result: [Element] = []
        result.reserveCapacity(count)
        var offset = 20
        for index in 0..<count {
            guard offset + 4 <= buffer.count else {
                throw PostgresError(.decoding, "array element \(index) truncated")
            }
            let length = Int(WireBytes.read(Int32.self, at: offset, in: buffer))
            offset += 4
            if length < 0 {
                result.append(try element(nil, elementType))
                continue
            }
            guard offset + length <= buffer.count else {
                throw PostgresError(.decoding, "array element \(index) truncated")
            }
            let slice = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + length)])
            result.append(try element(slice, elementType))
            offset += length
        }
        return result
    }
}
