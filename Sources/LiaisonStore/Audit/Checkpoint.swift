public import Foundation

/// A signed statement "the log's first `treeSize` sealed messages, up to seq `lastSeq`, have
/// Merkle root `root`" (docs/AUDIT.md, "Checkpoints").
///
/// What is signed is ``body``, five lines of text in the manner of a C2SP signed note, so that
/// anyone can check a kept checkpoint with the public key and any Ed25519 tool.
public struct Checkpoint: Sendable, Equatable {
    /// Leaves in the tree (messages sealed), ≥ 1.
    public var treeSize: Int64
    /// The seq of the last of them.
    public var lastSeq: Int64
    /// The tree's root (``CompactRange/root``).
    public var root: MerkleHash
    /// When it was signed: microseconds since the Unix epoch, the sealer's clock.
    public var timeMicroseconds: Int64
    /// ``AuditPublicKey/keyID`` of the signing key.
    public var keyID: String
    /// Ed25519 signature of ``body``, 64 bytes.
    public var signature: [UInt8]
    /// The log it seals; named in ``body``'s first line.
    public var log: AuditedLog = .messages

    /// The first line of ``body``.
    public static let header = "liaison audit checkpoint v1"

    /// Creates a checkpoint from its fields.
    public init(
        treeSize: Int64,
        lastSeq: Int64,
        root: MerkleHash,
        timeMicroseconds: Int64,
        keyID: String,
        signature: [UInt8],
        log: AuditedLog = .messages
    ) {
        self.treeSize = treeSize
        self.lastSeq = lastSeq
        self.root = root
        self.timeMicroseconds = timeMicroseconds
        self.keyID = keyID
        self.signature = signature
        self.log = log
    }

    /// Signs a new checkpoint.
    ///
    /// - Throws: ``StoreError`` `.invalid` if signing fails.
    public static func signed(
        treeSize: Int64,
        lastSeq: Int64,
        root: MerkleHash,
        timeMicroseconds: Int64,
        key: AuditSigningKey,
        log: AuditedLog = .messages
    ) throws(StoreError) -> Checkpoint {
        var checkpoint = Checkpoint(
            treeSize: treeSize,
            lastSeq: lastSeq,
            root: root,
            timeMicroseconds: timeMicroseconds,
            keyID: key.publicKey.keyID,
            signature: [],
            log: log
        )
        checkpoint.signature = try key.signature(for: Array(checkpoint.body.utf8))
        return checkpoint
    }

    /// The signed text: header, `tree-size`, `last-seq`, `root` (hex), `time-us`, each line ending
    /// in `\n`; for security events the header is `liaison audit event checkpoint v1` and the
    /// third line `last-id`.
    public var body: String {
        """
        \(self.log.checkpointHeader)
        tree-size \(self.treeSize)
        \(self.log.lastLabel) \(self.lastSeq)
        root \(self.root.hex)
        time-us \(self.timeMicroseconds)

        """
    }

    /// The signing time as a date.
    public var time: Date {
        Date(timeIntervalSince1970: Double(self.timeMicroseconds) / 1_000_000)
    }

    /// Whether the signature is valid under the key among `keys` whose id the checkpoint names.
    public func isSigned(byOneOf keys: [AuditPublicKey]) -> Bool {
        keys.contains { $0.keyID == self.keyID && $0.isValidSignature(self.signature, for: Array(self.body.utf8)) }
    }

    /// The note form `liaisonctl audit checkpoint` prints: the body, a blank line, and
    /// `— liaison <key id> <base64 signature>`.
    public var noteText: String {
        self.body + "\n— liaison \(self.keyID) \(Data(self.signature).base64EncodedString())\n"
    }

    /// The JSON form's fields (`--json`).
    public var jsonFields: [String: Any] {
        [
            "tree_size": self.treeSize, "last_seq": self.lastSeq, "root": self.root.hex,
            "time_us": self.timeMicroseconds, "key_id": self.keyID,
            "signature": Data(self.signature).base64EncodedString(),
        ]
    }

    /// Parses a kept checkpoint, in either form (JSON object, or the note text).
    ///
    /// - Throws: ``StoreError`` `.invalid` naming what is wrong.
    public init(parsing text: String) throws(StoreError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("{") {
            try self.init(json: trimmed)
        } else {
            try self.init(note: trimmed)
        }
    }

    private init(json: String) throws(StoreError) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let size = (object["tree_size"] as? NSNumber)?.int64Value,
            let last = (object["last_seq"] as? NSNumber)?.int64Value,
            let rootText = object["root"] as? String, let time = (object["time_us"] as? NSNumber)?.int64Value,
            let keyID = object["key_id"] as? String, let signature = object["signature"] as? String
        else {
            throw StoreError(
                .invalid,
                "not a checkpoint: a JSON object needs tree_size, last_seq, root, time_us, key_id, signature"
            )
        }
        try self.init(size: size, last: last, root: rootText, time: time, keyID: keyID, signature: signature)
    }

    private init(note: String) throws(StoreError) {
        var fields: [String: String] = [:]
        var signatureLine: [Substring] = []
        let lines = note.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.first == Substring(Self.header) else {
            throw StoreError(.invalid, "not a checkpoint: the first line must be '\(Self.header)'")
        }
        for line in lines.dropFirst() {
            let words = line.split(separator: " ")
            if words.first == "—" {
                signatureLine = Array(words)
            } else if words.count == 2 {
                fields[String(words[0])] = String(words[1])
            }
        }
        guard let size = fields["tree-size"].flatMap({ Int64($0) }),
            let last = fields["last-seq"].flatMap({ Int64($0) }),
            let root = fields["root"], let time = fields["time-us"].flatMap({ Int64($0) }), signatureLine.count == 4
        else {
            throw StoreError(
                .invalid,
                "not a checkpoint: tree-size, last-seq, root, time-us or the signature line is missing"
            )
        }
        try self.init(
            size: size,
            last: last,
            root: root,
            time: time,
            keyID: String(signatureLine[2]),
            signature: String(signatureLine[3])
        )
    }

    private init(
        size: Int64,
        last: Int64,
        root: String,
        time: Int64,
        keyID: String,
        signature: String
    ) throws(StoreError) {
        guard let rootBytes = Hex.decode(root), let rootHash = MerkleHash(bytes: rootBytes) else {
            throw StoreError(.invalid, "checkpoint root is not 64 hex digits")
        }
        guard let signatureBytes = Data(base64Encoded: signature), signatureBytes.count == 64 else {
            throw StoreError(.invalid, "checkpoint signature is not 64 bytes of base64")
        }
        guard size >= 1 else { throw StoreError(.invalid, "checkpoint tree size must be at least 1") }
        self.init(
            treeSize: size,
            lastSeq: last,
            root: rootHash,
            timeMicroseconds: time,
            keyID: keyID,
            signature: Array(signatureBytes)
        )
    }
}
