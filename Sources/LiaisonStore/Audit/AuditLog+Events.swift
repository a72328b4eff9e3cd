public import Postgres

extension AuditLog {
    /// Reads security events with `after < id ≤ through`, ascending, at most `limit`, as entries
    /// of their tree (every column hashed, ``SecurityEventLeaf``).
    ///
    /// Inserts into `security_events` are serialised by a transaction-level advisory lock taken
    /// before their ids are drawn (migration 0010), so events commit in id order and reading
    /// "after the last sealed id" misses none.
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func eventEntries(
        after: Int64,
        through: Int64 = .max,
        limit: Int,
        on connection: Connection
    ) throws(StoreError) -> [AuditEntry] {
        try storeCall {
            let result = try connection.query(
                """
                SELECT id, (extract(epoch FROM at) * 1000000)::bigint, kind, account, remote, reason, actor
                FROM security_events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3
                """,
                [after.postgresBind, through.postgresBind, Int64(limit).postgresBind]
            )
            return try (0..<result.rowCount).map { row in
                let leaf = SecurityEventLeaf(
                    id: try result.decode(Int64.self, row: row, column: 0),
                    atMicroseconds: try result.decode(Int64.self, row: row, column: 1),
                    kind: try result.decode(String.self, row: row, column: 2),
                    account: try result.decode(String?.self, row: row, column: 3),
                    remote: try result.decode(String?.self, row: row, column: 4),
                    reason: try result.decode(String.self, row: row, column: 5),
                    actor: try result.decode(String?.self, row: row, column: 6)
                )
                return AuditEntry(seq: leaf.id, hash: leaf.hash)
            }
        }
    }
}
