internal import CLibPQ

extension Connection {
    /// Runs several statements in one round trip with libpq's pipeline mode.
    ///
    /// All statements are sent, followed by one Sync, and the results are read back in order. Up to
    /// the Sync the statements form one implicit transaction (unless they contain their own `BEGIN`
    /// / `COMMIT`): if one fails, the server skips the rest and rolls back the ones before it, and
    /// nothing of the pipeline is committed. The connection leaves pipeline mode before this returns
    /// or throws, and stays usable after a server error.
    ///
    /// ```swift
    /// let results = try connection.pipeline(rows.map { Statement("INSERT INTO t VALUES ($1)", [$0.postgresBind]) })
    /// ```
    ///
    /// - Parameter statements: The statements, in order. `COPY` is not allowed.
    /// - Returns: One result per statement, in order.
    /// - Throws: `PostgresError(.server)` with the SQLSTATE of the first statement that failed;
    ///   `.connectionLost` when the connection broke (it is then closed if it was left unusable);
    ///   `.timeout` when the whole pipeline took longer than the statement timeout (the connection
    ///   is closed; the pipeline may or may not have been committed);
    ///   `.invalidArgument` when a statement's binds exceed the protocol limits (nothing is sent).
    public func pipeline(_ statements: [Statement]) throws -> [QueryResult] {
        let handle = try openHandle()
        if statements.isEmpty {
            return []
        }
        // Check every statement's binds before sending anything, so a client-side error never
        // leaves half a pipeline sent.
        for statement in statements {
            try ParameterBuffer.with(statement.binds) { _, _, _, _, _ in }
        }
        guard PQenterPipelineMode(handle) == 1 else {
            throw PostgresError(connection: handle, fallbackCode: .invalidArgument, context: "enter pipeline mode")
        }
        let deadline = statementDeadline()
        // Nonblocking, so a large batch is queued and then flushed while reading the server's
        // answers, instead of both sides blocking on full socket buffers.
        try withNonblocking(handle, "pipeline send") {
            for statement in statements {
                let sent = try ParameterBuffer.with(statement.binds) { count, types, values, lengths, formats in
                    switch statement.kind {
                    case .sql(let sql):
                        return PQsendQueryParams(handle, sql, count, types, values, lengths, formats, 1)
                    case .prepared(let name):
                        return PQsendQueryPrepared(handle, name, count, values, lengths, formats, 1)
                    }
                }
                guard sent == 1 else {
                    throw abandonPipeline(handle, context: "pipeline send")
                }
            }
            guard PQpipelineSync(handle) == 1 else {
                throw abandonPipeline(handle, context: "pipeline sync")
            }
            try flushOutput(handle, until: deadline, "pipeline send")
        }
        return try collectPipelineResults(handle, expected: statements.count, until: deadline)
    }

    /// Reads results up to the Sync, leaves pipeline mode, and returns the results or the first error.
    ///
    /// - Throws: The first statement's error; `PostgresError(.timeout)` when `deadline` passes (the
    ///   connection is closed).
    private func collectPipelineResults(
        _ handle: OpaquePointer,
        expected: Int,
        until deadline: ContinuousClock.Instant?
    ) throws -> [QueryResult] {
        var results: [QueryResult] = []
        results.reserveCapacity(expected)
        var firstError: PostgresError?
        var emptyReads = 0
        while true {
            try awaitResult(handle, until: deadline, "pipeline results")
            guard let raw = PQgetResult(handle) else {
                // NULL separates the statements' results. On a dead connection libpq keeps
                // returning NULL, so check the status; two in a row means the Sync will never come.
                emptyReads += 1
                if PQstatus(handle) == CONNECTION_BAD || emptyReads > 1 {
                    throw abandonPipeline(handle, context: "pipeline results")
                }
                continue
            }
            emptyReads = 0
            let result = QueryResult(handle: raw)
            switch PQresultStatus(raw) {
            case PGRES_PIPELINE_SYNC:
                try exitPipeline(handle)
                if let firstError {
                    throw firstError
                }
                return results
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                results.append(result)
            case PGRES_PIPELINE_ABORTED:
                if firstError == nil {
                    firstError = PostgresError(.pipelineAborted, "pipeline aborted by an earlier failed statement")
                }
            default:
                if firstError == nil || firstError?.code == .pipelineAborted {
                    firstError = PostgresError(result: raw, connection: handle)
                }
            }
        }
    }

    /// Leaves pipeline mode after the Sync was read.
    private func exitPipeline(_ handle: OpaquePointer) throws {
        if PQexitPipelineMode(handle) == 1 {
            return
        }
        // libpq may still have to report the end of the last result.
        if let leftover = PQgetResult(handle) {
            PQclear(leftover)
        }
        guard PQexitPipelineMode(handle) == 1 else {
            throw abandonPipeline(handle, context: "exit pipeline mode")
        }
    }

    /// The error for a pipeline that cannot be completed. A connection that is still up but in an
    /// unknown pipeline state is closed, so no half-sent batch is ever committed by a later Sync.
    private func abandonPipeline(_ handle: OpaquePointer, context: String) -> PostgresError {
        var error = PostgresError(connection: handle, fallbackCode: .connectionLost, context: context)
        if PQstatus(handle) != CONNECTION_BAD {
            error.code = .connectionLost
            close()
        }
        return error
    }
}
