public import Postgres

/// An error from the Liaison store, with a stable code and, where the database spoke, its SQLSTATE.
///
/// Modelled on postgres-nio's `PSQLError`: a struct with an extensible ``Code`` so new cases do not
/// break callers that switch over the common ones.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in terms a caller can act on.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// The database could not be reached or the connection broke (maps to protocol `ERR 503`).
        public static let unavailable = Code("unavailable")
        /// The named row (account, credential, consumer) does not exist.
        public static let notFound = Code("notFound")
        /// The row already exists or a constraint refused the change.
        public static let conflict = Code("conflict")
        /// A value (name, file, argument) is malformed.
        public static let invalid = Code("invalid")
        /// The database schema is older than this build needs: run `liaisonctl migrate`.
        public static let schemaTooOld = Code("schemaTooOld")
        /// An already-applied migration file changed on disk, or the database is newer than this build.
        public static let migrationMismatch = Code("migrationMismatch")
        /// Any other database error.
        public static let database = Code("database")
    }

    /// The kind of failure.
    public var code: Code
    /// A one-line message for people.
    public var message: String
    /// The database error underneath, if any (keeps SQLSTATE, detail and hint).
    public var underlying: PostgresError?

    /// Creates an error.
    public init(_ code: Code, _ message: String, underlying: PostgresError? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        var text = "\(self.code): \(self.message)"
        if let underlying, let state = underlying.sqlState { text += " (SQLSTATE \(state))" }
        return text
    }

    /// Maps a thrown error from the `Postgres` module into a store error with a meaningful code.
    ///
    /// - Parameter error: Any error; a `StoreError` passes through unchanged.
    /// - Returns: `.unavailable` for connection errors, `.conflict` for SQLSTATE class 23,
    ///   `.database` otherwise.
    public static func wrap(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        guard let pg = error as? PostgresError else {
            return StoreError(.database, String(describing: error))
        }
        if pg.isConnectionError { return StoreError(.unavailable, pg.message, underlying: pg) }
        if let state = pg.sqlState, state.hasPrefix("23") {
            return StoreError(.conflict, pg.detail ?? pg.message, underlying: pg)
        }
        return StoreError(.database, pg.message, underlying: pg)
    }

    /// Whether a write that failed with this error may still have committed: the connection
    /// broke or stopped answering after the statement may have reached the server. A failed
    /// connect, or a refusal by the server, means nothing was committed. A server-side 57P01
    /// (backend terminated) arrives only before a commit or instead of its answer: unknown.
    public var outcomeUnknown: Bool {
        guard self.code == .unavailable else { return false }
        guard let underlying else { return true }
        return underlying.code != .connectionFailed
    }
}

/// Runs `body`, converting any thrown error into a ``StoreError``.
@inline(__always)
func storeCall<T>(_ body: () throws -> T) throws(StoreError) -> T {
    do { return try body() } catch { throw StoreError.wrap(error) }
}
