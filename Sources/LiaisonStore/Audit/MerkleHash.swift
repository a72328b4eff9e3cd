import Crypto

/// A 32-byte SHA-256 value in the message log's Merkle tree (docs/AUDIT.md, "The tree").
///
/// Domain separation follows RFC 9162 section 2.1.1 (the same as RFC 6962 section 2.1): a leaf
/// hash is `SHA-256(0x00 || leaf input)`, an interior node `SHA-256(0x01 || left || right)`, so a
/// leaf can never be passed off as a node or the other way round (second-preimage resistance).
public struct MerkleHash: Sendable, Hashable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// Wraps 32 bytes.
    ///
    /// - Parameter bytes: A SHA-256 digest.
    /// - Returns: `nil` unless there are exactly 32 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    private init(digest: SHA256.Digest) {
        self.bytes = Array(digest)
    }

    /// `SHA-256()` of no bytes: the root of the empty tree (RFC 9162 section 2.1.1).
    public static let emptyTree = MerkleHash(digest: SHA256.hash(data: [UInt8]()))

    /// `SHA-256(0x00 || input)`: the hash of one leaf (RFC 9162 section 2.1.1).
    ///
    /// - Parameter input: The leaf input, for Liaison the canonical message encoding (``AuditLeaf``).
    public static func leaf(_ input: [UInt8]) -> MerkleHash {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: input)
        return MerkleHash(digest: hasher.finalize())
    }

    /// `SHA-256(0x01 || left || right)`: the hash of an interior node (RFC 9162 section 2.1.1).
    public static func node(_ left: MerkleHash, _ right: MerkleHash) -> MerkleHash {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left.bytes)
        hasher.update(data: right.bytes)
        return MerkleHash(digest: hasher.finalize())
    }

    /// Lower-case hex, 64 characters.
    public var hex: String {
        Hex.encode(self.bytes)
    }

    public var description: String { self.hex }
}

/// Lower-case hexadecimal text of bytes, and back.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// The bytes as lower-case hex, two characters each.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(Self.digits[Int(byte >> 4)])
            out.append(Self.digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses hex text (either case).
    ///
    /// - Returns: The bytes, or `nil` for an odd length or a character that is not a hex digit.
    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = Self.value(utf8[index]), let low = Self.value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func value(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
