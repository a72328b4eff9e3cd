import Crypto

/// One message as the tamper-evidence tree sees it, and its canonical encoding (docs/AUDIT.md,
/// "Leaf encoding").
///
/// The encoding is the leaf input of RFC 9162 section 2.1.1; all integers are big-endian, every
/// string and byte field is preceded by its length, so no two different messages encode alike:
///
/// | field | bytes |
/// |---|---|
/// | version | `u8` = 1 |
/// | seq | `i64` |
/// | topic | `u32` length, UTF-8 |
/// | account | `u32` length, UTF-8 |
/// | publication time | `i64` microseconds since 1970-01-01T00:00:00Z |
/// | header count | `u32` |
/// | each header, keys in ascending byte order | `u32` key length, key UTF-8, `u32` value length, value UTF-8 |
/// | payload | `u64` length, then the payload's SHA-256 (32 bytes) |
///
/// The payload enters as its SHA-256, which PostgreSQL computes (`sha256(payload)`): sealing and
/// verifying then read 32 bytes per message whatever its size, so both run in memory bounded by
/// the page's row count, and a changed payload still changes the leaf (SHA-256 is collision-resistant).
public struct AuditLeaf: Sendable, Equatable {
    /// The encoding's version byte; a future encoding gets another one.
    public static let encodingVersion: UInt8 = 1

    /// The message's seq.
    public var seq: Int64
    /// Its topic, as stored.
    public var topic: String
    /// The publishing account.
    public var account: String
    /// `published_at` in microseconds since the Unix epoch (PostgreSQL keeps microseconds).
    public var publishedMicroseconds: Int64
    /// The headers as key/value pairs; the encoding sorts them by key.
    public var headers: [(key: String, value: String)]
    /// The payload's length in bytes.
    public var payloadLength: Int64
    /// The payload's SHA-256, 32 bytes.
    public var payloadHash: [UInt8]

    /// Creates a leaf.
    public init(
        seq: Int64,
        topic: String,
        account: String,
        publishedMicroseconds: Int64,
        headers: [(key: String, value: String)],
        payloadLength: Int64,
        payloadHash: [UInt8]
    ) {
        self.seq = seq
        self.topic = topic
        self.account = account
        self.publishedMicroseconds = publishedMicroseconds
        self.headers = headers
        self.payloadLength = payloadLength
        self.payloadHash = payloadHash
    }

    /// Creates a leaf from the payload itself (hashing it here).
    public init(
        seq: Int64,
        topic: String,
        account: String,
        publishedMicroseconds: Int64,
        headers: [(key: String, value: String)],
        payload: [UInt8]
    ) {
        self.init(
            seq: seq,
            topic: topic,
            account: account,
            publishedMicroseconds: publishedMicroseconds,
            headers: headers,
            payloadLength: Int64(payload.count),
            payloadHash: Array(SHA256.hash(data: payload))
        )
    }

    public static func == (lhs: AuditLeaf, rhs: AuditLeaf) -> Bool {
        lhs.encoding == rhs.encoding
    }

    /// The canonical encoding (the table above).
    public var encoding: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + self.topic.utf8.count + self.account.utf8.count)
        out.append(Self.encodingVersion)
        Self.append(UInt64(bitPattern: self.seq), bytes: 8, to: &out)
        Self.appendField(Array(self.topic.utf8), to: &out)
        Self.appendField(Array(self.account.utf8), to: &out)
        Self.append(UInt64(bitPattern: self.publishedMicroseconds), bytes: 8, to: &out)
        // Byte order of UTF-8 keys, the same as PostgreSQL's COLLATE "C": independent of locale.
        let sorted = self.headers.map { (key: Array($0.key.utf8), value: Array($0.value.utf8)) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
        Self.append(UInt64(sorted.count), bytes: 4, to: &out)
        for header in sorted {
            Self.appendField(header.key, to: &out)
            Self.appendField(header.value, to: &out)
        }
        Self.append(UInt64(bitPattern: self.payloadLength), bytes: 8, to: &out)
        out.append(contentsOf: self.payloadHash)
        return out
    }

    /// `SHA-256(0x00 || encoding)`, the leaf hash (RFC 9162 section 2.1.1).
    public var hash: MerkleHash {
        .leaf(self.encoding)
    }

    /// Appends a `u32` length and the bytes (shared with ``SecurityEventLeaf``).
    static func appendField(_ bytes: [UInt8], to out: inout [UInt8]) {
        Self.append(UInt64(bytes.count), bytes: 4, to: &out)
        out.append(contentsOf: bytes)
    }

    /// Appends the low `bytes` bytes of `value`, big-endian (shared with ``SecurityEventLeaf``).
    static func append(_ value: UInt64, bytes: Int, to out: inout [UInt8]) {
        for shift in stride(from: (bytes - 1) * 8, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}

/// A sealed leaf: the hash stored for one seq at one position of the tree (`audit_leaves`).
public struct SealedLeaf: Sendable, Equatable {
    /// The message's seq.
    public var seq: Int64
    /// Its position in the tree, from 0, in seq order.
    public var index: Int64
    /// Its leaf hash.
    public var hash: MerkleHash
    /// When retention purged the message: the record that allowed it; `nil` for a message still in the log.
    public var purge: PurgeRecord?

    /// Creates a sealed leaf.
    public init(seq: Int64, index: Int64, hash: MerkleHash, purge: PurgeRecord? = nil) {
        self.seq = seq
        self.index = index
        self.hash = hash
        self.purge = purge
    }
}
