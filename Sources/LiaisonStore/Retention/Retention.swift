public import LiaisonCore
public import Postgres

/// Retention policies and legal holds (`retention_policies`, `retention_holds`, migration 0010):
/// reading them, and changing them as audited admin changes (docs/AUDIT.md, "Retention").
///
/// Stateless: every call takes the connection it runs on.
public struct Retention: Sendable {
    /// Creates the repository.
    public init() {}

    /// Every policy, by pattern.
    ///
    /// - Throws: ``StoreError`` `.unavailable`, `.database`, or `.invalid` for a stored pattern
    ///   that is not a valid topic pattern (altered table).
    public func policies(on connection: Connection) throws(StoreError) -> [RetentionPolicy] {
        let rows = try storeCall {
            let result = try connection.query(
                """
                SELECT pattern, keep_days, set_by, (extract(epoch FROM set_at) * 1000000)::bigint
                FROM retention_policies ORDER BY pattern COLLATE "C"
                """
            )
            return try (0..<result.rowCount).map { row in
                (
                    try result.decode(String.self, row: row, column: 0),
                    try result.decode(Int64.self, row: row, column: 1),
                    try result.decode(String.self, row: row, column: 2),
                    try result.decode(Int64.self, row: row, column: 3)
                )
            }
        }
        var policies: [RetentionPolicy] = []
        for (text, days, by, at) in rows {
            policies.append(
                RetentionPolicy(pattern: try Self.pattern(text), keepDays: Int(days), setBy: by, setAtMicroseconds: at)
            )
        }
        return policies
    }

    /// Legal holds, by id: those in force, or all (released ones too) when `includeReleased`.
    ///
    /// - Throws: ``StoreError`` `.unavailable`, `.database` or `.invalid` (altered table).
    public func holds(includeReleased: Bool, on connection: Connection) throws(StoreError) -> [RetentionHold] {
        let rows = try storeCall {
            let result = try connection.query(
                """
                SELECT id, pattern, first_seq, last_seq, reason, placed_by,
                    (extract(epoch FROM placed_at) * 1000000)::bigint, released_by,
                    (extract(epoch FROM released_at) * 1000000)::bigint
                FROM retention_holds WHERE $1 OR released_at IS NULL ORDER BY id
                """,
                [includeReleased.postgresBind]
            )
            return try (0..<result.rowCount).map { row in
                (
                    id: try result.decode(Int64.self, row: row, column: 0),
                    pattern: try result.decode(String?.self, row: row, column: 1),
                    first: try result.decode(Int64?.self, row: row, column: 2),
                    last: try result.decode(Int64?.self, row: row, column: 3),
                    reason: try result.decode(String.self, row: row, column: 4),
                    placedBy: try result.decode(String.self, row: row, column: 5),
                    placedAt: try result.decode(Int64.self, row: row, column: 6),
                    releasedBy: try result.decode(String?.self, row: row, column: 7),
                    releasedAt: try result.decode(Int64?.self, row: row, column: 8)
                )
            }
        }
        var holds: [RetentionHold] = []
        for row in rows {
            var seqs: ClosedRange<Int64>?
            if let first = row.first, let last = row.last, first <= last { seqs = first...last }
            holds.append(
                RetentionHold(
                    id: row.id,
                    pattern: try row.pattern.map { text throws(StoreError) in try Self.pattern(text) },
                    seqs: seqs,
                    reason: row.reason,
                    placedBy: row.placedBy,
                    placedAtMicroseconds: row.placedAt,
                    releasedBy: row.releasedBy,
                    releasedAtMicroseconds: row.releasedAt
                )
            )
        }
        return holds
    }

    /// Sets (or changes) the policy of `pattern` and records the change in `security_events`, in
    /// one transaction.
    ///
    /// - Parameters:
    ///   - pattern: The topics it applies to.
    ///   - keepDays: How long to keep them, 1…``RetentionPolicy/maxKeepDays`` days.
    ///   - audit: Who makes the change.
    ///   - connection: The connection to write on.
    /// - Returns: The previous keep in days, or `nil` when the pattern had no policy.
    /// - Throws: ``StoreError`` `.invalid` for a keep out of range; `.unavailable` or `.database`.
    @discardableResult
    public func setPolicy(
        _ pattern: TopicPattern,
        keepDays: Int,
        audit: AdminAudit,
        on connection: Connection
    ) throws(StoreError) -> Int? {
        guard (1...RetentionPolicy.maxKeepDays).contains(keepDays) else {
            throw StoreError(.invalid, "keep must be 1 to \(RetentionPolicy.maxKeepDays) days, not \(keepDays)")
        }
        return try audit.perform(on: connection) { connection in
            let old = try connection.query(
                "SELECT keep_days FROM retention_policies WHERE pattern = $1 FOR UPDATE",
                [pattern.value.postgresBind]
            )
            let previous = old.rowCount == 1 ? Int(try old.decode(Int64.self, row: 0, column: 0)) : nil
            try connection.query(
                """
                INSERT INTO retention_policies (pattern, keep_days, set_by) VALUES ($1, $2, $3)
                ON CONFLICT (pattern) DO UPDATE SET keep_days = excluded.keep_days, set_by = excluded.set_by,
                    set_at = clock_timestamp()
                """,
                [pattern.value.postgresBind, Int64(keepDays).postgresBind, audit.actor.postgresBind]
            )
            let before = previous.map { "\($0) days" } ?? "none"
            let change = AdminChange(
                .retentionSet,
                account: nil,
                reason: "retention \(pattern.value): \(before) -> \(keepDays) days"
            )
            return (previous, previous == keepDays ? [] : [change])
        }
    }

    /// Removes the policy of `pattern` (its topics are then kept for ever, unless another policy
    /// matches) and records the change, in one transaction.
    ///
    /// - Returns: The removed keep in days.
    /// - Throws: ``StoreError`` `.notFound` when the pattern has no policy; `.unavailable` or `.database`.
    @discardableResult
    public func removePolicy(
        _ pattern: TopicPattern,
        audit: AdminAudit,
        on connection: Connection
    ) throws(StoreError) -> Int {
        let removed: Int? = try audit.perform(on: connection) { connection in
            let result = try connection.query(
                "DELETE FROM retention_policies WHERE pattern = $1 RETURNING keep_days",
                [pattern.value.postgresBind]
            )
            guard result.rowCount == 1 else { return (Int?.none, []) }
            let days = Int(try result.decode(Int64.self, row: 0, column: 0))
            let change = AdminChange(
                .retentionRemoved,
                account: nil,
                reason: "retention \(pattern.value): \(days) days -> none"
            )
            return (days, [change])
        }
        guard let removed else {
            throw StoreError(.notFound, "no retention policy for \(pattern.value)")
        }
        return removed
    }

    /// Places a legal hold and records it, in one transaction, ordered against purge batches by
    /// ``Schema/retentionLockKey`` (a batch that starts after this commits sees the hold).
    ///
    /// - Parameters:
    ///   - pattern: The topics it covers; `nil` for every topic of `seqs`.
    ///   - seqs: The seqs it covers; `nil` for every seq of `pattern`.
    ///   - reason: Why, for people; not empty.
    ///   - audit: Who places it.
    ///   - connection: The connection to write on.
    /// - Returns: The hold as stored.
    /// - Throws: ``StoreError`` `.invalid` without a pattern and a range, with an empty reason or
    ///   a range not within 1…; `.unavailable` or `.database`.
    public func placeHold(
        pattern: TopicPattern?,
        seqs: ClosedRange<Int64>?,
        reason: String,
        audit: AdminAudit,
        on connection: Connection
    ) throws(StoreError) -> RetentionHold {
        guard pattern != nil || seqs != nil else {
            throw StoreError(.invalid, "a hold needs a pattern, a seq range, or both")
        }
        guard reason.contains(where: { !$0.isWhitespace }) else {
            throw StoreError(.invalid, "a hold needs a reason")
        }
        if let seqs, seqs.lowerBound < 1 { throw StoreError(.invalid, "seqs start at 1") }
        let id: Int64 = try audit.perform(on: connection) { connection in
            try connection.query("SELECT pg_advisory_xact_lock($1)", [Schema.retentionLockKey.postgresBind])
            let id = try connection.query(
                """
                INSERT INTO retention_holds (pattern, first_seq, last_seq, reason, placed_by, placed_at)
                VALUES ($1, $2, $3, $4, $5, clock_timestamp()) RETURNING id
                """,
                [
                    pattern?.value.postgresBind ?? .null, seqs?.lowerBound.postgresBind ?? .null,
                    seqs?.upperBound.postgresBind ?? .null, reason.postgresBind, audit.actor.postgresBind,
                ]
            ).decode(Int64.self, row: 0, column: 0)
            let scope = RetentionHold(id: id, pattern: pattern, seqs: seqs, reason: reason).scope
            return (id, [AdminChange(.retentionHold, account: nil, reason: "hold \(id) on \(scope): \(reason)")])
        }
        guard let hold = try self.holds(includeReleased: true, on: connection).first(where: { $0.id == id }) else {
            throw StoreError(.database, "hold \(id) was placed but cannot be read back")
        }
        return hold
    }

    /// Releases a legal hold and records it, in one transaction (under ``Schema/retentionLockKey``).
    ///
    /// - Returns: The hold as it was before.
    /// - Throws: ``StoreError`` `.notFound` for an unknown id; `.conflict` when it was released
    ///   already; `.unavailable` or `.database`.
    @discardableResult
    public func releaseHold(
        _ id: Int64,
        audit: AdminAudit,
        on connection: Connection
    ) throws(StoreError)
        -> RetentionHold
    {
        guard let hold = try self.holds(includeReleased: true, on: connection).first(where: { $0.id == id }) else {
            throw StoreError(.notFound, "no hold \(id)")
        }
        let released: Bool = try audit.perform(on: connection) { connection in
            try connection.query("SELECT pg_advisory_xact_lock($1)", [Schema.retentionLockKey.postgresBind])
            let result = try connection.query(
                """
                UPDATE retention_holds SET released_by = $2, released_at = clock_timestamp()
                WHERE id = $1 AND released_at IS NULL
                """,
                [id.postgresBind, audit.actor.postgresBind]
            )
            guard result.affectedRows == 1 else { return (false, []) }
            return (
                true,
                [AdminChange(.retentionRelease, account: nil, reason: "hold \(id) on \(hold.scope) released")]
            )
        }
        guard released else {
            throw StoreError(.conflict, "hold \(id) was released already (by \(hold.releasedBy ?? "?"))")
        }
        return hold
    }

    private static func pattern(_ text: String) throws(StoreError) -> TopicPattern {
        do { return try TopicPattern(text) } catch {
            throw StoreError(.invalid, "retention: stored pattern '\(text)' is not a valid topic pattern")
        }
    }
}
