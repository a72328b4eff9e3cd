import Crypto
import Foundation

/// The Ed25519 public key that checks checkpoint signatures (RFC 8032), as `liaisonctl audit key`
/// prints it: `ed25519:` and the 32 raw key bytes in base64.
public struct AuditPublicKey: Sendable, Hashable {
    /// The 32 raw key bytes (RFC 8032 section 5.1.5).
    public let raw: [UInt8]

    /// Wraps raw key bytes.
    ///
    /// - Throws: ``StoreError`` `.invalid` unless they are a valid Ed25519 public key.
    public init(raw: [UInt8]) throws(StoreError) {
        guard (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil else {
            throw StoreError(.invalid, "not an Ed25519 public key (\(raw.count) bytes)")
        }
        self.raw = raw
    }

    /// Parses `ed25519:<base64>` (the prefix may be left out); surrounding whitespace is ignored.
    ///
    /// - Throws: ``StoreError`` `.invalid` for anything else.
    public init(text: String) throws(StoreError) {
        var body = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let first = body.split(separator: " ").first { body = String(first) }
        if body.hasPrefix("ed25519:") { body.removeFirst("ed25519:".count) }
        guard let data = Data(base64Encoded: body) else {
            throw StoreError(.invalid, "public key is not ed25519:<base64>: '\(text.prefix(80))'")
        }
        try self.init(raw: Array(data))
    }

    /// Parses every non-empty, non-`#` line of a public key file (several keys after a rotation).
    ///
    /// - Throws: ``StoreError`` `.invalid` for a bad line or a file with no key.
    public static func parseFile(_ text: String) throws(StoreError) -> [AuditPublicKey] {
        var keys: [AuditPublicKey] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            keys.append(try AuditPublicKey(text: trimmed))
        }
        guard !keys.isEmpty else { throw StoreError(.invalid, "the public key file holds no key") }
        return keys
    }

    /// `ed25519:<base64>`.
    public var text: String {
        "ed25519:" + Data(self.raw).base64EncodedString()
    }

    /// The first 8 bytes of SHA-256 of the raw key, in hex: names the key in each checkpoint.
    public var keyID: String {
        Hex.encode(Array(SHA256.hash(data: self.raw).prefix(8)))
    }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: self.raw) else { return false }
        return key.isValidSignature(signature, for: message)
    }
}

/// The sealer's Ed25519 private key, kept in a file of mode 0600 holding `ed25519-private:` and
/// the 32-byte seed in base64 (docs/AUDIT.md, "Keys").
public struct AuditSigningKey: Sendable {
    // The seed, not swift-crypto's key type (which is not Sendable); the key is rebuilt per use.
    private let seed: [UInt8]
    private static let prefix = "ed25519-private:"

    private var key: Curve25519.Signing.PrivateKey {
        // The seed was checked when this value was made.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: self.seed)
    }

    /// A new random key (the system's cryptographic generator).
    public init() {
        self.seed = Array(Curve25519.Signing.PrivateKey().rawRepresentation)
    }

    /// Restores a key from its 32-byte seed.
    ///
    /// - Throws: ``StoreError`` `.invalid` for a wrong length.
    public init(seed: [UInt8]) throws(StoreError) {
        guard (try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)) != nil else {
            throw StoreError(.invalid, "an Ed25519 private key is 32 bytes, got \(seed.count)")
        }
        self.seed = seed
    }

    /// The matching public key.
    public var publicKey: AuditPublicKey {
        // A key swift-crypto made always has a valid public half.
        try! AuditPublicKey(raw: Array(self.key.publicKey.rawRepresentation))
    }

    /// Signs `message` (Ed25519, RFC 8032 section 5.1.6): 64 bytes.
    ///
    /// - Throws: ``StoreError`` `.invalid` if the library refuses (it does not for valid keys).
    public func signature(for message: [UInt8]) throws(StoreError) -> [UInt8] {
        do { return Array(try self.key.signature(for: message)) } catch {
            throw StoreError(.invalid, "cannot sign: \(error)")
        }
    }

    /// The file's text: `ed25519-private:<base64 seed>` and a newline.
    public var fileText: String {
        Self.prefix + self.key.rawRepresentation.base64EncodedString() + "\n"
    }

    /// Reads a key file.
    ///
    /// - Throws: ``StoreError`` `.notFound` when there is no file, `.invalid` when it is unreadable
    ///   or malformed.
    public static func load(from path: String) throws(StoreError) -> AuditSigningKey {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(.notFound, "no signing key file at \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else { throw StoreError(.invalid, "cannot read the signing key file \(path)") }
        let body = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard body.hasPrefix(Self.prefix), let seed = Data(base64Encoded: String(body.dropFirst(Self.prefix.count)))
        else { throw StoreError(.invalid, "\(path) is not an ed25519-private:<base64> key file") }
        return try AuditSigningKey(seed: Array(seed))
    }

    /// Reads the key file, or creates it with a new key (mode 0600, never overwriting: two
    /// daemons starting at once both end up with the one that was written first).
    ///
    /// - Returns: The key and whether it was created now.
    /// - Throws: ``StoreError`` `.invalid` when the file cannot be read or written.
    public static func loadOrCreate(at path: String) throws(StoreError) -> (key: AuditSigningKey, created: Bool) {
        if FileManager.default.fileExists(atPath: path) { return (try Self.load(from: path), false) }
        let key = AuditSigningKey()
        // O_EXCL: a file that appeared meanwhile is not replaced; 0600: only the owner reads the seed.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if fd < 0 {
            if errno == EEXIST { return (try Self.load(from: path), false) }
            throw StoreError(
                .invalid,
                "cannot create the signing key file \(path): \(String(cString: strerror(errno)))"
            )
        }
        let bytes = Array(key.fileText.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced else {
            unlink(path)
            throw StoreError(.invalid, "cannot write the signing key file \(path)")
        }
        return (key, true)
    }

    /// Whether the file can be read by others than its owner (group or world bits set).
    public static func isExposed(path: String) -> Bool {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let mode = attributes[.posixPermissions] as? NSNumber
        else { return false }
        return mode.intValue & 0o077 != 0
    }
}
