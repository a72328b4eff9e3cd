internal import CLibPQ

extension Connection {
    /// Runs `COPY ... FROM STDIN` and streams the data `feed` writes.
    ///
    /// ```swift
    /// let rows = try connection.copyFrom("COPY t (id, name) FROM STDIN") { writer in
    ///     for (id, name) in items { try writer.writeTextRow([String(id), name]) }
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - sql: A `COPY table [(columns)] FROM STDIN [WITH (...)]` statement.
    ///   - feed: Writes the data with the writer; when it throws, the COPY is aborted (nothing is
    ///     stored) and its error rethrown.
    /// - Returns: The number of rows copied.
    /// - Throws: `PostgresError(.server)` with the SQLSTATE when the statement or the data is rejected
    ///   (22P02 for malformed input, say); `.copyFailed` when the statement is not a COPY FROM STDIN
    ///   or libpq refuses the data; `.connectionLost`; or what `feed` throws.
    public func copyFrom(_ sql: String, _ feed: (inout CopyWriter) throws -> Void) throws -> Int {
        let handle = try openHandle()
        guard let start = PQexec(handle, sql) else {
            throw PostgresError(connection: handle, fallbackCode: .copyFailed, context: "COPY")
        }
        let startResult = QueryResult(handle: start)
        switch PQresultStatus(start) {
        case PGRES_COPY_IN:
            break
        case PGRES_FATAL_ERROR, PGRES_BAD_RESPONSE, PGRES_NONFATAL_ERROR:
            throw PostgresError(result: start, connection: handle)
        case PGRES_COPY_OUT:
            discardCopyOut(handle)
            throw PostgresError(.copyFailed, "copyFrom needs COPY ... FROM STDIN, got COPY TO STDOUT")
        default:
            _ = startResult
            throw PostgresError(.copyFailed, "copyFrom needs COPY ... FROM STDIN, got \(startResult.commandStatus)")
        }
        var writer = CopyWriter(handle: handle)
        do {
            try feed(&writer)
        } catch {
            if PQputCopyEnd(handle, "aborted by the client") == 1 {
                _ = drainCopyResults(handle)
            }
            throw error
        }
        guard PQputCopyEnd(handle, nil) == 1 else {
            throw PostgresError(connection: handle, fallbackCode: .copyFailed, context: "COPY end")
        }
        return try drainCopyResults(handle).get()
    }

    /// Reads the results after the end of COPY data: the row count, or the first error.
    private func drainCopyResults(_ handle: OpaquePointer) -> Result<Int, PostgresError> {
        var rows: Int?
        var failure: PostgresError?
        while let raw = PQgetResult(handle) {
            let result = QueryResult(handle: raw)
            if PQresultStatus(raw) == PGRES_COMMAND_OK {
                rows = result.affectedRows
            } else if failure == nil {
                failure = PostgresError(result: raw, connection: handle)
            }
        }
        if let failure {
            return .failure(failure)
        }
        guard let rows else {
            return .failure(PostgresError(connection: handle, fallbackCode: .copyFailed, context: "COPY result"))
        }
        return .success(rows)
    }

    /// Reads and drops a COPY TO STDOUT that was started by mistake, so the connection stays usable.
    private func discardCopyOut(_ handle: OpaquePointer) {
        var buffer: UnsafeMutablePointer<CChar>?
        while PQgetCopyData(handle, &buffer, 0) > 0 {
            PQfreemem(buffer)
            buffer = nil
        }
        while let raw = PQgetResult(handle) {
            PQclear(raw)
        }
    }
}
