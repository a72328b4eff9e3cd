internal import CLibPQ

/// Sends the data of a `COPY ... FROM STDIN` (`PQputCopyData`); handed to the feed of
/// ``Connection/copyFrom(_:_:)`` and valid only during it.
///
/// libpq buffers the data and sends it in chunks, so many small writes cost no round trips.
public struct CopyWriter {
    /// The `PGconn *` in COPY IN state.
    private let handle: OpaquePointer
    /// Reused row buffer for ``writeTextRow(_:)``.
    private var row: [UInt8] = []
    /// The number of bytes written so far.
    public private(set) var bytesWritten = 0

    /// Wraps a connection in COPY IN state.
    init(handle: OpaquePointer) {
        self.handle = handle
    }

    /// Sends bytes of COPY data; rows need not align with calls.
    ///
    /// - Parameter bytes: The data, in the format the COPY statement names.
    /// - Throws: `PostgresError(.copyFailed)`, or `.connectionLost` when the connection broke.
    public mutating func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Sends bytes of COPY data without copying them first.
    ///
    /// - Parameter buffer: The data, in the format the COPY statement names; read during the call only.
    /// - Throws: `PostgresError(.copyFailed)`, or `.connectionLost` when the connection broke.
    public mutating func write(_ buffer: UnsafeRawBufferPointer) throws {
        guard buffer.count > 0 else {
            return
        }
        guard buffer.count <= Int(Int32.max) else {
            throw PostgresError(.invalidArgument, "COPY chunk of \(buffer.count) bytes exceeds 2 GiB")
        }
        let pointer = buffer.baseAddress!.assumingMemoryBound(to: CChar.self)
        guard PQputCopyData(handle, pointer, Int32(buffer.count)) == 1 else {
            throw PostgresError(connection: handle, fallbackCode: .copyFailed, context: "COPY data")
        }
        bytesWritten += buffer.count
    }

    /// Sends one row in COPY's text format: fields separated by a tab, `nil` as `\N`, and
    /// backslash, tab, LF and CR escaped (PostgreSQL manual, COPY, "Text Format").
    ///
    /// - Parameter fields: The row's values in column order, `nil` for NULL.
    /// - Throws: As ``write(_:)-([UInt8])``.
    public mutating func writeTextRow(_ fields: [String?]) throws {
        row.removeAll(keepingCapacity: true)
        for (index, field) in fields.enumerated() {
            if index > 0 {
                row.append(0x09)
            }
            guard let field else {
                row.append(contentsOf: [0x5C, 0x4E])
                continue
            }
            for byte in field.utf8 {
                switch byte {
                case 0x5C: row.append(contentsOf: [0x5C, 0x5C])
                case 0x09: row.append(contentsOf: [0x5C, 0x74])
                case 0x0A: row.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: row.append(contentsOf: [0x5C, 0x72])
                default: row.append(byte)
                }
            }
        }
        row.append(0x0A)
        let bytes = row
        try bytes.withUnsafeBytes { try write($0) }
    }
}
