extension Connection {
    /// Runs `body` inside `BEGIN` ... `COMMIT`.
    ///
    /// When `body` throws, the transaction is rolled back and the error rethrown; when the
    /// connection broke, the error is rethrown without trying to roll back (the server does it).
    /// A `body` that swallowed a failed statement would leave the transaction aborted, and the
    /// server would turn `COMMIT` into a rollback: that is reported as an error (SQLSTATE 25P02),
    /// never as success.
    ///
    /// - Parameter body: The work, given this connection.
    /// - Returns: What `body` returns, after the commit succeeded.
    /// - Throws: What `body` throws; `PostgresError` from `BEGIN` or `COMMIT` (for example a deferred
    ///   constraint's violation or a serialization failure, 40001).
    public func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
        try query("BEGIN")
        let value: T
        do {
            value = try body(self)
        } catch {
            rollBackUnlessBroken(after: error)
            throw error
        }
        let commit: QueryResult
        do {
            commit = try query("COMMIT")
        } catch {
            rollBackUnlessBroken(after: error)
            throw error
        }
        if commit.commandStatus == "ROLLBACK" {
            throw PostgresError(
                .server,
                "transaction was rolled back at COMMIT because a statement in it failed",
                sqlState: "25P02"
            )
        }
        return value
    }

    private func rollBackUnlessBroken(after error: any Error) {
        if let error = error as? PostgresError, error.isConnectionError {
            return
        }
        guard isHealthy, isInTransaction else {
            return
        }
        _ = try? query("ROLLBACK")
    }
}
