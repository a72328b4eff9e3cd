extension Connection {
    /// Streams the rows of one query in pages through a server-side cursor, so that memory holds
    /// one page at a time whatever the number of rows.
    ///
    /// Runs `DECLARE … NO SCROLL CURSOR FOR <sql>` in a `REPEATABLE READ READ ONLY` transaction
    /// (every page sees the same snapshot: rows committed during the stream are not in it), then
    /// `FETCH FORWARD pageSize` until a page comes back short or `page` returns `false`; the
    /// transaction then commits (nothing was written). PostgreSQL documentation, "DECLARE" and
    /// "FETCH".
    ///
    /// - Parameters:
    ///   - sql: A `SELECT` with `$1`… placeholders.
    ///   - binds: The values of the placeholders.
    ///   - pageSize: Rows per `FETCH` (≥ 1). Memory is about `pageSize` × the largest row.
    ///   - page: Called with each non-empty page, in order; returns whether to go on.
    /// - Throws: `PostgresError` from the server or the connection; what `page` throws (the
    ///   transaction is rolled back then).
    /// - Precondition: The connection is not inside a transaction.
    public func streamRows(
        _ sql: String,
        _ binds: [PostgresBind] = [],
        pageSize: Int,
        page: (QueryResult) throws -> Bool
    ) throws {
        precondition(pageSize >= 1, "pageSize must be at least 1")
        try self.transaction { connection in
            try connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            try connection.query("DECLARE liaison_stream NO SCROLL CURSOR FOR " + sql, binds)
            while true {
                let result = try connection.query("FETCH FORWARD \(pageSize) FROM liaison_stream")
                if result.rowCount > 0, try !page(result) { break }
                if result.rowCount < pageSize { break }
            }
            try connection.query("CLOSE liaison_stream")
        }
    }
}
