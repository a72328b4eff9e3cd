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
    ///   or libpq refuses the data; `.connectionLost`; `.timeout` when the start or the end of the
    ///   COPY each took longer than the statement timeout (the connection is then closed, and the
    ///   rows may or may not have been stored); or what `feed` throws. The data `feed` writes is
    ///   not under the statement timeout (a long feed is fine); TCP's `tcp_user_timeout` bounds it.
    public func copyFrom(_ sql: String, _ feed: (inout CopyWriter) throws -> Void) throws -> Int {
        let handle = try openHandle()
        guard let startResult = try sendAndCollect("COPY", { PQsendQuery($0, sql) }) else {
            throw PostgresError(connection: handle, fallbackCode: .copyFailed, context: "COPY")
        }
        let start = startResult.handle
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
            _ = endCopy(handle, abortMessage: "aborted by the client")
            throw error
        }
        return try endCopy(handle, abortMessage: nil).get()
    }

    /// Ends the COPY data (`PQputCopyEnd`, with `abortMessage` to make the server fail the COPY)
    /// and reads the results, within a statement deadline of its own.
    ///
    /// - Returns: The row count, or the first error (`.timeout` when the deadline passed; the
    ///   connection is then closed).
    private func endCopy(_ handle: OpaquePointer, abortMessage: String?) -> Result<Int, PostgresError> {
        let deadline = statementDeadline()
        do {
            try withNonblocking(handle, "COPY end") {
                guard PQputCopyEnd(handle, abortMessage) == 1 else {
                    throw PostgresError(connection: handle, fallbackCode: .copyFailed, context: "COPY end")
                }
                try flushOutput(handle, until: deadline, "COPY end")
            }
            return try drainCopyResults(handle, until: deadline)
        } catch let error as PostgresError {
            return .failure(error)
        } catch {
            return .failure(PostgresError(.copyFailed, "COPY end: \(error)"))
        }
    }

    /// Reads the results after the end of COPY data: the row count, or the first error.
    ///
    /// - Throws: `PostgresError(.timeout)` when `deadline` passes (the connection is closed).
    private func drainCopyResults(
        _ handle: OpaquePointer,
        until deadline: ContinuousClock.Instant?
    ) throws -> Result<Int, PostgresError> {
        var rows: Int?
        var failure: PostgresError?
        while true {
            try awaitResult(handle, until: deadline, "COPY result")
            guard let raw = PQgetResult(handle) else {
                break
            }
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
