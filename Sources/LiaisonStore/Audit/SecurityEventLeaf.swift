/// One security event as its Merkle tree sees it, and its canonical encoding (docs/AUDIT.md,
/// "Security events"): every column of `security_events`, the `actor` of migration 0009 included.
///
/// All integers big-endian; a string is a `u32` length and UTF-8; a nullable string is `u8` 0
/// for NULL, or `u8` 1 and the string, so NULL and '' differ:
///
/// | field | bytes |
/// |---|---|
/// | tag | `u8` = 0x45 (`E`; a message leaf starts with its version 1, so the two never collide) |
/// | version | `u8` = 1 |
/// | id | `i64` |
/// | at | `i64` microseconds since 1970-01-01T00:00:00Z |
/// | kind | string |
/// | account | nullable string |
/// | remote | nullable string |
/// | reason | string |
/// | actor | nullable string |
///
/// The leaf hash is `SHA-256(0x00 || encoding)`, as for messages (RFC 9162 section 2.1.1).
public struct SecurityEventLeaf: Sendable, Equatable {
    /// The row's id (`security_events.id`).
    public var id: Int64
    /// `at` in microseconds since the Unix epoch.
    public var atMicroseconds: Int64
    /// The kind as stored (not parsed: an unknown kind still seals and verifies).
    public var kind: String
    /// The account concerned, or NULL.
    public var account: String?
    /// Where it came from, or NULL.
    public var remote: String?
    /// The sentence.
    public var reason: String
    /// Who made an admin change, or NULL.
    public var actor: String?

    /// Creates a leaf.
    public init(
        id: Int64,
        atMicroseconds: Int64,
        kind: String,
        account: String?,
        remote: String?,
        reason: String,
        actor: String?
    ) {
        self.id = id
        self.atMicroseconds = atMicroseconds
        self.kind = kind
        self.account = account
        self.remote = remote
        self.reason = reason
        self.actor = actor
    }

    /// The canonical encoding (the table above).
    public var encoding: [UInt8] {
        var out: [UInt8] = [0x45, 1]
        Self.append(UInt64(bitPattern: self.id), bytes: 8, to: &out)
        Self.append(UInt64(bitPattern: self.atMicroseconds), bytes: 8, to: &out)
        Self.appendField(self.kind, to: &out)
        Self.appendOptional(self.account, to: &out)
        Self.appendOptional(self.remote, to: &out)
        Self.appendField(self.reason, to: &out)
        Self.appendOptional(self.actor, to: &out)
        return out
    }

    /// `SHA-256(0x00 || encoding)`.
    public var hash: MerkleHash { .leaf(self.encoding) }

    private static func appendOptional(_ text: String?, to out: inout [UInt8]) {
        guard let text else {
            out.append(0)
            return
        }
        out.append(1)
        Self.appendField(text, to: &out)
    }

    private static func appendField(_ text: String, to out: inout [UInt8]) {
        AuditLeaf.appendField(Array(text.utf8), to: &out)
    }

    private static func append(_ value: UInt64, bytes: Int, to out: inout [UInt8]) {
        AuditLeaf.append(value, bytes: bytes, to: &out)
    }
}
