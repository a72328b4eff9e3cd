/// Big-endian integer helpers for PostgreSQL's binary wire formats (network byte order throughout).
enum WireBytes {
    /// Appends `value` in network byte order.
    @inline(__always)
    static func append<I: FixedWidthInteger>(_ value: I, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// Overwrites 4 bytes at `offset` with `value` in network byte order (to patch a length prefix).
    @inline(__always)
    static func patch(_ value: Int32, at offset: Int, in bytes: inout [UInt8]) {
        let big = UInt32(bitPattern: value).bigEndian
        withUnsafeBytes(of: big) { source in
            bytes.withUnsafeMutableBytes { target in
                target.baseAddress!.advanced(by: offset).copyMemory(from: source.baseAddress!, byteCount: 4)
            }
        }
    }

    /// Reads a big-endian integer at `offset`; the caller has checked the bounds.
    @inline(__always)
    static func read<I: FixedWidthInteger>(_: I.Type, at offset: Int, in buffer: UnsafeRawBufferPointer) -> I {
        I(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: I.self))
    }
}
