public import Postgres

/// One purge pass as recorded in `retention_purges`.
public struct PurgeRecordSummary: Sendable, Equatable {
    /// The pass's id.
    public var id: Int64
    /// Who ran it: `liaisond <node>` or an operator.
    public var runBy: String
    /// When it started, in microseconds since the Unix epoch.
    public var startedAtMicroseconds: Int64
    /// When it finished; `nil` for a pass that broke off (what it recorded is committed all the same).
    public var finishedAtMicroseconds: Int64?
    /// Messages it purged.
    public var messages: Int64
    /// Dedupe keys it expired.
    public var dedupeKeys: Int64
}

extension Retention {
    /// The most recent purge passes, newest first.
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func purges(limit: Int, on connection: Connection) throws(StoreError) -> [PurgeRecordSummary] {
        try storeCall {
            let result = try connection.query(
                """
                SELECT id, run_by, (extract(epoch FROM started_at) * 1000000)::bigint,
                    (extract(epoch FROM finished_at) * 1000000)::bigint, messages, dedupe_keys
                FROM retention_purges ORDER BY id DESC LIMIT $1
                """,
                [Int64(limit).postgresBind]
            )
            return try (0..<result.rowCount).map { row in
                PurgeRecordSummary(
                    id: try result.decode(Int64.self, row: row, column: 0),
                    runBy: try result.decode(String.self, row: row, column: 1),
                    startedAtMicroseconds: try result.decode(Int64.self, row: row, column: 2),
                    finishedAtMicroseconds: try result.decode(Int64?.self, row: row, column: 3),
                    messages: try result.decode(Int64.self, row: row, column: 4),
                    dedupeKeys: try result.decode(Int64.self, row: row, column: 5)
                )
            }
        }
    }
}
