import LiaisonCore
public import Postgres

/// Purges messages past their retention and expires dedupe keys past their window, in short
/// transactions (docs/AUDIT.md, "Retention").
///
/// A pass: ``begin(_:on:)`` takes the purge lock (one purger per database), then each
/// ``step(_:on:)`` is one transaction of at most `batchSize` messages or keys, then
/// ``end(_:on:)`` records the end and lets the lock go. A message batch:
/// 1. takes the hold lock (``Schema/retentionLockKey``; never the append lock, so publishing goes
///    on) and reads the policies and the holds in force;
/// 2. reads the messages after the cursor, up to the last seq a signed checkpoint covers, older
///    than the shortest keep, and decides each with ``RetentionRules``;
/// 3. for each one to purge, recomputes its leaf from the row; only a row that still matches its
///    sealed leaf is purged (a changed one stays, for `audit verify` to name);
/// 4. marks their leaves purged (with the policy and the leaf encoding), deletes the rows and
///    records the ranges, in that one transaction.
public struct RetentionPurger: Sendable {
    /// Creates the purger.
    public init() {}

    /// Starts a pass: takes the purge lock on this session and reads the checkpoint ceiling.
    ///
    /// - Returns: The pass, or `nil` when another session (a daemon, a `retention run`) holds the lock.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func begin(_ options: PurgeOptions, on connection: Connection) throws(StoreError) -> PurgePass? {
        try storeCall {
            let locked = try connection.query("SELECT pg_try_advisory_lock($1)", [Schema.purgeLockKey.postgresBind])
                .decode(Bool.self, row: 0, column: 0)
            guard locked else { return nil }
            let ceiling = try connection.query("SELECT coalesce(max(last_seq), 0) FROM audit_checkpoints")
                .decode(Int64.self, row: 0, column: 0)
            return PurgePass(options: options, ceiling: ceiling)
        }
    }

    /// Runs one step of the pass (one transaction).
    ///
    /// - Throws: ``StoreError`` `.conflict` when this session lost the purge lock (its
    ///   connection broke); `.unavailable`, `.database` or `.invalid`. The step's changes are
    ///   rolled back then; the pass may be begun again.
    public func step(_ pass: inout PurgePass, on connection: Connection) throws(StoreError) {
        switch pass.phase {
        case .messages:
            try self.messageBatch(&pass, on: connection)
        case .dedupeKeys:
            try self.dedupeBatch(&pass, on: connection)
        case .done:
            return
        }
    }

    /// Ends the pass: stamps the purge record's end and releases the purge lock.
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database` (the lock goes with the session anyway).
    public func end(_ pass: PurgePass, on connection: Connection) throws(StoreError) {
        try storeCall {
            if let id = pass.purgeID {
                try connection.query(
                    "UPDATE retention_purges SET finished_at = clock_timestamp() WHERE id = $1",
                    [id.postgresBind]
                )
            }
        }
        self.abandon(on: connection)
    }

    /// Releases the purge lock without recording anything (after a failed step).
    public func abandon(on connection: Connection) {
        _ = try? connection.query("SELECT pg_advisory_unlock($1)", [Schema.purgeLockKey.postgresBind])
    }

    /// One transaction of messages.
    private func messageBatch(_ pass: inout PurgePass, on connection: Connection) throws(StoreError) {
        var next = pass
        try storeCall {
            try connection.transaction { connection in
                try self.requireLock(on: connection)
                try connection.query("SELECT pg_advisory_xact_lock($1)", [Schema.retentionLockKey.postgresBind])
                let clock = try connection.query(
                    "SELECT t::text, (extract(epoch FROM t) * 1000000)::bigint FROM (SELECT clock_timestamp() AS t) s"
                )
                let nowText = try clock.decode(String.self, row: 0, column: 0)
                let now = try clock.decode(Int64.self, row: 0, column: 1)
                let retention = Retention()
                let rules = RetentionRules(
                    policies: try retention.policies(on: connection),
                    holds: try retention.holds(includeReleased: false, on: connection)
                )
                guard let shortest = rules.shortestKeepDays else {
                    next.phase = .dedupeKeys
                    return
                }
                let page = try connection.query(
                    """
                    SELECT seq, topic, (extract(epoch FROM published_at) * 1000000)::bigint FROM messages
                    WHERE seq > $1 AND seq <= $2 AND published_at <= $3::timestamptz - make_interval(days => $4::int)
                    ORDER BY seq LIMIT $5
                    """,
                    [
                        next.cursor.postgresBind, next.ceiling.postgresBind, nowText.postgresBind,
                        Int64(shortest).postgresBind, Int64(next.options.batchSize).postgresBind,
                    ]
                )
                var chosen: [Int64: RetentionPolicy] = [:]
                for row in 0..<page.rowCount {
                    let seq = try page.decode(Int64.self, row: row, column: 0)
                    let topic = try Topic(try page.decode(String.self, row: row, column: 1))
                    let published = try page.decode(Int64.self, row: row, column: 2)
                    next.cursor = seq
                    next.scanned += 1
                    switch rules.decide(seq: seq, topic: topic, publishedMicroseconds: published, nowMicroseconds: now)
                    {
                    case .purge(let policy): chosen[seq] = policy
                    case .keepHeld: next.held += 1
                    case .keepNoPolicy, .keepRecent: break
                    }
                }
                if page.rowCount < next.options.batchSize { next.phase = .dedupeKeys }
                guard !chosen.isEmpty else { return }
                let purges = try self.matching(chosen, next: &next, on: connection)
                guard !purges.isEmpty else { return }
                next.purged += Int64(purges.count)
                for purge in purges { next.purgedByPattern[purge.policy.pattern.value, default: 0] += 1 }
                guard !next.options.dryRun else { return }
                try self.apply(purges, nowText: nowText, pass: &next, on: connection)
            }
        }
        pass = next
    }

    /// The chosen rows that still match their sealed leaves, with their encodings.
    private func matching(
        _ chosen: [Int64: RetentionPolicy],
        next: inout PurgePass,
        on connection: Connection
    ) throws -> [(seq: Int64, policy: RetentionPolicy, encoding: [UInt8])] {
        let seqs = chosen.keys.sorted()
        let log = AuditLog()
        let rows = try log.rows(seqs: seqs, on: connection)
        var sealed: [Int64: MerkleHash] = [:]
        for leaf in try log.leaves(seqs: seqs, on: connection) where leaf.purge == nil { sealed[leaf.seq] = leaf.hash }
        var purges: [(seq: Int64, policy: RetentionPolicy, encoding: [UInt8])] = []
        for row in rows {
            guard let policy = chosen[row.leaf.seq] else { continue }
            guard row.wellFormed, sealed[row.leaf.seq] == row.leaf.hash else {
                next.mismatched += 1
                continue
            }
            purges.append((seq: row.leaf.seq, policy: policy, encoding: row.leaf.encoding))
        }
        return purges
    }

    /// Marks the leaves purged, deletes the rows and records the ranges (inside the batch's transaction).
    private func apply(
        _ purges: [(seq: Int64, policy: RetentionPolicy, encoding: [UInt8])],
        nowText: String,
        pass: inout PurgePass,
        on connection: Connection
    ) throws {
        let id = try pass.purgeID ?? self.createRecord(pass.options, on: connection)
        pass.purgeID = id
        let seqs = purges.map(\.seq)
        try connection.query(
            """
            UPDATE audit_leaves AS l SET purge_id = $1, purged_at = $2::timestamptz, purge_pattern = u.pattern,
                purge_keep_days = u.keep, purged_leaf = u.encoding
            FROM unnest($3::bigint[], $4::text[], $5::bigint[], $6::bytea[]) AS u (seq, pattern, keep, encoding)
            WHERE l.seq = u.seq AND l.purge_id IS NULL
            """,
            [
                id.postgresBind, nowText.postgresBind, seqs.postgresBind,
                purges.map(\.policy.pattern.value).postgresBind, purges.map { Int64($0.policy.keepDays) }.postgresBind,
                purges.map(\.encoding).postgresBind,
            ]
        )
        try connection.query("DELETE FROM messages WHERE seq = ANY($1)", [seqs.postgresBind])
        try connection.query(
            """
            INSERT INTO retention_purged_ranges (purge_id, pattern, keep_days, first_seq, last_seq, messages)
            SELECT $1, u.pattern, u.keep, min(u.seq), max(u.seq), count(*)
            FROM unnest($2::bigint[], $3::text[], $4::bigint[]) AS u (seq, pattern, keep)
            GROUP BY u.pattern, u.keep
            """,
            [
                id.postgresBind, seqs.postgresBind, purges.map(\.policy.pattern.value).postgresBind,
                purges.map { Int64($0.policy.keepDays) }.postgresBind,
            ]
        )
        try connection.query(
            "UPDATE retention_purges SET messages = messages + $2 WHERE id = $1",
            [id.postgresBind, Int64(purges.count).postgresBind]
        )
    }

    /// One transaction of dedupe keys past the window.
    private func dedupeBatch(_ pass: inout PurgePass, on connection: Connection) throws(StoreError) {
        guard let window = pass.options.dedupeWindowSeconds, window > 0 else {
            pass.phase = .done
            return
        }
        var next = pass
        try storeCall {
            try connection.transaction { connection in
                try self.requireLock(on: connection)
                let old = "SELECT account, key FROM dedupe_keys WHERE created_at < now() - make_interval(secs => $1)"
                let binds = [Double(window).postgresBind, Int64(next.options.batchSize).postgresBind]
                let count: Int64
                if next.options.dryRun {
                    // Counts them all at once: nothing is locked or changed.
                    count = try connection.query("SELECT count(*) FROM (\(old)) o", [Double(window).postgresBind])
                        .decode(Int64.self, row: 0, column: 0)
                    next.phase = .done
                } else {
                    count = try connection.query(
                        """
                        WITH gone AS (DELETE FROM dedupe_keys WHERE (account, key) IN (\(old) LIMIT $2) RETURNING 1)
                        SELECT count(*) FROM gone
                        """,
                        binds
                    ).decode(Int64.self, row: 0, column: 0)
                    if count < next.options.batchSize { next.phase = .done }
                }
                next.dedupeKeys += count
                guard count > 0, !next.options.dryRun else { return }
                let id = try next.purgeID ?? self.createRecord(next.options, on: connection)
                next.purgeID = id
                try connection.query(
                    "UPDATE retention_purges SET dedupe_keys = dedupe_keys + $2 WHERE id = $1",
                    [id.postgresBind, count.postgresBind]
                )
            }
        }
        pass = next
    }

    private func createRecord(_ options: PurgeOptions, on connection: Connection) throws -> Int64 {
        try connection.query(
            "INSERT INTO retention_purges (run_by) VALUES ($1) RETURNING id",
            [options.runBy.postgresBind]
        ).decode(Int64.self, row: 0, column: 0)
    }

    /// Fails unless this session holds the purge lock (it goes away when the connection breaks).
    private func requireLock(on connection: Connection) throws {
        let held = try connection.query(
            """
            SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                AND objsubid = 1 AND classid::bigint = ($1::bigint >> 32) AND objid::bigint = ($1::bigint & 4294967295))
            """,
            [Schema.purgeLockKey.postgresBind]
        ).decode(Bool.self, row: 0, column: 0)
        guard held else { throw StoreError(.conflict, "retention: this session lost the purge lock; begin again") }
    }
}
