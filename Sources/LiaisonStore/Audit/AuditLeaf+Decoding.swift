extension AuditLeaf {
    /// Parses a canonical encoding (``encoding``, docs/AUDIT.md "Leaf encoding") back into a leaf.
    ///
    /// A purged message keeps its encoding in `audit_leaves.purged_leaf`; `audit verify` hashes it
    /// (it must give the sealed leaf hash) and reads the topic and publication time from it to
    /// check that the purge was allowed.
    ///
    /// - Parameter encoding: The bytes, exactly one encoding (no trailing bytes).
    /// - Returns: `nil` when the bytes are not a version-1 encoding or a string is not UTF-8.
    public init?(encoding: [UInt8]) {
        var reader = EncodingReader(bytes: encoding)
        guard reader.integer(1) == UInt64(Self.encodingVersion),
            let seq = reader.integer(8),
            let topic = reader.field(),
            let account = reader.field(),
            let time = reader.integer(8),
            let count = reader.integer(4)
        else { return nil }
        var headers: [(key: String, value: String)] = []
        for _ in 0..<count {
            guard let key = reader.field(), let value = reader.field() else { return nil }
            headers.append((key: key, value: value))
        }
        guard let length = reader.integer(8), let hash = reader.bytes(32), reader.atEnd else { return nil }
        self.init(
            seq: Int64(bitPattern: seq),
            topic: topic,
            account: account,
            publishedMicroseconds: Int64(bitPattern: time),
            headers: headers,
            payloadLength: Int64(bitPattern: length),
            payloadHash: hash
        )
    }
}

/// Reads the big-endian integers and length-prefixed fields of a leaf encoding.
private struct EncodingReader {
    let bytes: [UInt8]
    var offset = 0

    var atEnd: Bool { self.offset == self.bytes.count }

    mutating func bytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, self.bytes.count - self.offset >= count else { return nil }
        defer { self.offset += count }
        return Array(self.bytes[self.offset..<self.offset + count])
    }

    mutating func integer(_ width: Int) -> UInt64? {
        guard let raw = self.bytes(width) else { return nil }
        return raw.reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func field() -> String? {
        guard let length = self.integer(4), let raw = self.bytes(Int(length)) else { return nil }
        return String(validating: raw, as: UTF8.self)
    }
}
