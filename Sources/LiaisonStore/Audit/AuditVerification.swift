public import Postgres

/// `liaisonctl audit verify` against the database: streams the rows and the sealed leaves in seq
/// order, page by page (keyset pages on the primary keys, in one repeatable-read snapshot), into
/// an ``AuditVerifier``. Memory is one page of each, whatever the log's size: a row is its
/// fields and the 32-byte SHA-256 of its payload, never the payload (``AuditLeaf``).
public struct AuditVerification: Sendable {
    /// What to verify.
    public struct Options: Sendable {
        /// Verify from this seq (starting at the last checkpoint before it); `nil`: the start.
        public var from: Int64?
        /// Verify up to this seq; `nil`: the end of the log.
        public var to: Int64?
        /// The trusted public keys; `nil` takes them from `audit_keys` (weaker: see docs/AUDIT.md).
        public var keys: [AuditPublicKey]?
        /// A checkpoint kept outside the database: the log must still hash to its root.
        public var kept: Checkpoint?
        /// Rows (and leaves) per page.
        public var pageSize: Int = 5_000

        /// Creates the options.
        public init(from: Int64? = nil, to: Int64? = nil, keys: [AuditPublicKey]? = nil, kept: Checkpoint? = nil) {
            self.from = from
            self.to = to
            self.keys = keys
            self.kept = kept
        }
    }

    /// A run that found nothing wrong.
    public struct Report: Sendable {
        /// Sealed rows recomputed and matched.
        public var sealedRows: Int64
        /// Of those, messages purged by retention whose purge records checked out.
        public var purgedRows: Int64
        /// Rows after the last sealed seq (not sealed yet, so not checked).
        public var unsealedRows: Int64
        /// The seq verification started after (the start checkpoint's last seq, or 0).
        public var startSeq: Int64
        /// Checkpoints whose signature and root matched, ascending (the start one included).
        public var checkpoints: [Checkpoint]
        /// The seq up to which a signed checkpoint covers the rows.
        public var signedThroughSeq: Int64
        /// The highest sealed seq seen.
        public var lastSealedSeq: Int64
        /// Whether the keys came from the database rather than the caller.
        public var keysFromDatabase: Bool
        /// The security events' tree (always verified whole): sealed events recomputed and matched.
        public var sealedEvents: Int64 = 0
        /// Events after the last sealed id.
        public var unsealedEvents: Int64 = 0
        /// Event checkpoints whose signature and root matched, ascending.
        public var eventCheckpoints: [Checkpoint] = []
        /// The highest sealed event id.
        public var lastSealedEvent: Int64 = 0
    }

    /// Creates the driver.
    public init() {}

    /// Runs the verification.
    ///
    /// - Parameters:
    ///   - options: Range, keys, kept checkpoint.
    ///   - connection: A connection (used inside one read-only transaction).
    ///   - progress: Called after every page with the sealed rows checked so far and the last seq.
    /// - Returns: The report when everything matched.
    /// - Throws: ``AuditMismatch`` at the first mismatch; ``StoreError`` when the database fails.
    public func run(
        _ options: Options,
        on connection: Connection,
        progress: (Int64, Int64) -> Void = { _, _ in }
    ) throws -> Report {
        let log = AuditLog()
        do {
            return try connection.transaction { connection in
                // One snapshot: the sealer may go on meanwhile, but the run sees one state of the tables.
                try connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                let dbKeys = try log.keys(on: connection)
                let keys = options.keys ?? dbKeys
                let to = options.to ?? .max
                let start = try options.from.flatMap { try log.checkpoint(before: $0, on: connection) }
                var checkpoints = try log.checkpoints(
                    afterSize: start?.checkpoint.treeSize ?? 0,
                    throughSeq: to,
                    on: connection
                ).map(\.checkpoint)
                if let kept = options.kept {
                    checkpoints.append(kept)
                    checkpoints.sort { $0.treeSize < $1.treeSize }
                }
                let lastSealed = try connection.query("SELECT coalesce(max(seq), 0) FROM audit_leaves")
                    .decode(Int64.self, row: 0, column: 0)
                var verifier = try AuditVerifier(
                    start: start,
                    checkpoints: checkpoints,
                    keys: keys,
                    lastSealedSeq: lastSealed
                )
                verifier.holds = try Retention().holds(includeReleased: true, on: connection)
                let after = start?.checkpoint.lastSeq ?? 0
                try self.stream(
                    after: after,
                    to: to,
                    pageSize: options.pageSize,
                    into: &verifier,
                    on: connection,
                    progress: progress
                )
                try verifier.finish()
                let events = try self.verifyEvents(keys: keys, pageSize: options.pageSize, on: connection)
                return Report(
                    sealedRows: verifier.sealedRows,
                    purgedRows: verifier.purgedRows,
                    unsealedRows: verifier.unsealedRows,
                    startSeq: after,
                    checkpoints: verifier.checkedCheckpoints,
                    signedThroughSeq: verifier.lastGoodSeq,
                    lastSealedSeq: lastSealed,
                    keysFromDatabase: options.keys == nil,
                    sealedEvents: events.verifier.sealedRows,
                    unsealedEvents: events.verifier.unsealedRows,
                    eventCheckpoints: events.verifier.checkedCheckpoints,
                    lastSealedEvent: events.lastSealed
                )
            }
        } catch let mismatch as AuditMismatch {
            throw mismatch
        } catch {
            throw StoreError.wrap(error)
        }
    }

    /// Verifies the security events' tree, whole, in the same snapshot (docs/AUDIT.md, "Security events").
    private func verifyEvents(
        keys: [AuditPublicKey],
        pageSize: Int,
        on connection: Connection
    ) throws -> (verifier: AuditVerifier, lastSealed: Int64) {
        let log = AuditLog(.securityEvents)
        let lastSealed = try connection.query("SELECT coalesce(max(seq), 0) FROM audit_event_leaves")
            .decode(Int64.self, row: 0, column: 0)
        var verifier = try AuditVerifier(
            start: nil,
            checkpoints: try log.checkpoints(afterSize: 0, throughSeq: .max, on: connection).map(\.checkpoint),
            keys: keys,
            lastSealedSeq: lastSealed
        )
        verifier.log = .securityEvents
        try self.stream(
            after: 0,
            entries: { try log.eventEntries(after: $0, limit: pageSize, on: connection) },
            leaves: { try log.leaves(after: $0, limit: pageSize, on: connection) },
            pageSize: pageSize,
            into: &verifier,
            progress: { _, _ in }
        )
        try verifier.finish()
        return (verifier, lastSealed)
    }

    /// Merges the message rows and their leaves by seq into the verifier.
    private func stream(
        after: Int64,
        to: Int64,
        pageSize: Int,
        into verifier: inout AuditVerifier,
        on connection: Connection,
        progress: (Int64, Int64) -> Void
    ) throws {
        let log = AuditLog()
        try self.stream(
            after: after,
            entries: { after in
                try log.rows(after: after, through: to, limit: pageSize, on: connection).map {
                    AuditEntry(seq: $0.leaf.seq, hash: $0.leaf.hash, wellFormed: $0.wellFormed)
                }
            },
            leaves: { try log.leaves(after: $0, through: to, limit: pageSize, on: connection) },
            pageSize: pageSize,
            into: &verifier,
            progress: progress
        )
    }

    /// Merges two keyset-paged streams, entries and sealed leaves, by key into the verifier.
    private func stream(
        after: Int64,
        entries fetchEntries: @escaping (Int64) throws -> [AuditEntry],
        leaves fetchLeaves: @escaping (Int64) throws -> [SealedLeaf],
        pageSize: Int,
        into verifier: inout AuditVerifier,
        progress: (Int64, Int64) -> Void
    ) throws {
        var rows = Paged<AuditEntry>(after: after, fetch: fetchEntries)
        var leaves = Paged<SealedLeaf>(after: after, fetch: fetchLeaves)
        var sincePage = 0
        while true {
            let rowSeq = try rows.peek(\.seq)
            let leafSeq = try leaves.peek(\.seq)
            guard let seq = [rowSeq, leafSeq].compactMap({ $0 }).min() else { break }
            let row = rowSeq == seq ? rows.take() : nil
            let leaf = leafSeq == seq ? leaves.take() : nil
            try verifier.feed(entry: row, leaf: leaf)
            sincePage += 1
            if sincePage == pageSize {
                sincePage = 0
                progress(verifier.sealedRows, seq)
            }
        }
    }
}

/// A stream read in keyset pages: `fetch(afterSeq)` returns the next page, ascending.
private struct Paged<Element> {
    private var buffer: [Element] = []
    private var position = 0
    private var after: Int64
    private var exhausted = false
    private let fetch: (Int64) throws -> [Element]

    init(after: Int64, fetch: @escaping (Int64) throws -> [Element]) {
        self.after = after
        self.fetch = fetch
    }

    /// The seq of the next element, reading the next page when the buffer is used up.
    mutating func peek(_ seq: (Element) -> Int64) throws -> Int64? {
        if self.position == self.buffer.count, !self.exhausted {
            self.buffer = try self.fetch(self.after)
            self.position = 0
            if let last = self.buffer.last { self.after = seq(last) } else { self.exhausted = true }
        }
        return self.position < self.buffer.count ? seq(self.buffer[self.position]) : nil
    }

    /// Takes the element ``peek(_:)`` looked at.
    mutating func take() -> Element {
        defer { self.position += 1 }
        return self.buffer[self.position]
    }
}
