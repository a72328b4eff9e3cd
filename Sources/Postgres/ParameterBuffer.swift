internal import CLibPQ

/// The five parallel C arrays `PQexecParams` / `PQsendQueryParams` / `PQexecPrepared` take, built
/// from binds with one contiguous byte buffer for all values (one allocation however many parameters).
enum ParameterBuffer {
    /// Calls `body` with C views of `binds`, valid only during the call.
    ///
    /// - Parameters:
    ///   - binds: The parameters, `$1` first.
    ///   - body: Receives count, types, values, lengths and formats.
    /// - Returns: What `body` returns.
    /// - Throws: `PostgresError(.invalidArgument)` when a value exceeds 1 GiB or there are more than
    ///   65535 parameters (the protocol's limits), or what `body` throws.
    static func with<R>(
        _ binds: [PostgresBind],
        _ body: (
            Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
            UnsafePointer<Int32>?
        ) throws -> R
    ) throws -> R {
        guard binds.count <= Int(UInt16.max) else {
            throw PostgresError(.invalidArgument, "\(binds.count) parameters exceed the protocol limit of 65535")
        }
        if binds.isEmpty {
            return try body(0, nil, nil, nil, nil)
        }
        var total = 1
        for bind in binds {
            total += bind.bytes?.count ?? 0
        }
        guard total <= 1 << 30 else {
            throw PostgresError(.invalidArgument, "parameters of \(total) bytes exceed the 1 GiB limit")
        }
        // One trailing byte keeps the base address non-nil, so an empty non-NULL value still gets a
        // non-NULL pointer (libpq reads a NULL pointer as SQL NULL).
        var storage: [UInt8] = []
        storage.reserveCapacity(total)
        var types: [Oid] = []
        var offsets: [Int] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        types.reserveCapacity(binds.count)
        offsets.reserveCapacity(binds.count)
        lengths.reserveCapacity(binds.count)
        formats.reserveCapacity(binds.count)
        for bind in binds {
            types.append(bind.type.rawValue)
            formats.append(bind.isBinary ? 1 : 0)
            if let bytes = bind.bytes {
                offsets.append(storage.count)
                lengths.append(Int32(bytes.count))
                storage.append(contentsOf: bytes)
                if !bind.isBinary {
                    // Text-format values are read as C strings.
                    storage.append(0)
                }
            } else {
                offsets.append(-1)
                lengths.append(0)
            }
        }
        storage.append(0)
        return try storage.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            let values: [UnsafePointer<CChar>?] = offsets.map { $0 < 0 ? nil : base + $0 }
            return try body(Int32(binds.count), types, values, lengths, formats)
        }
    }
}
