internal import CLibPQ

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// One libpq connection to PostgreSQL.
///
/// All statements use the extended protocol with parameters and results in binary format, except
/// ``execute(script:)``. Every call blocks the calling thread until the server answers, or until
/// ``ConnectionOptions/statementTimeoutMilliseconds`` passed (then the connection is closed and the
/// call throws `PostgresError(.timeout)`), so use a connection from a thread of its own (see
/// ``PostgresWorker``), never from an event loop or Swift's cooperative pool.
///
/// Deliberately not `Sendable`: a `PGconn` must be used by one thread at a time, and the compiler
/// then rejects every way of sharing it across tasks. The client encoding is always UTF8, and
/// NOTICE/WARNING messages go to ``noticeHandler`` (dropped by default, never to stderr).
///
/// ```swift
/// let connection = try Connection("postgresql://liaison@127.0.0.1:5432/liaison")
/// let result = try connection.query("SELECT seq FROM messages WHERE topic = $1", "hq.guidance")
/// let seq = try result.decode(Int64.self, row: 0, column: 0)
/// ```
public final class Connection {
    /// The `PGconn *`, `nil` once closed.
    private(set) var handle: OpaquePointer?
    /// Holds the notice handler for libpq's C callback; lives as long as the connection.
    private let noticeRelay = NoticeRelay()

    /// The limits this connection was opened with; ``ConnectionOptions/statementTimeoutMilliseconds``
    /// bounds each of its round trips.
    public let options: ConnectionOptions

    /// Opens a connection.
    ///
    /// The connection string is checked with ``validate(_:)`` first. The libpq parameters of
    /// `options` (`connect_timeout`, keepalives, `tcp_user_timeout`) are defaults the connection
    /// string can override; `client_encoding` is always UTF8.
    ///
    /// - Parameters:
    ///   - conninfo: A URI (`postgresql://user@host:port/db?...`) or a `key=value` string (PostgreSQL
    ///     manual, libpq "Connection Strings").
    ///   - options: Time limits; the defaults bound connecting to 3 s and each round trip to 5 s.
    /// - Throws: `PostgresError(.invalidArgument)` for a malformed connection string (nothing is
    ///   tried); `PostgresError(.connectionFailed)` with libpq's message when the server cannot be
    ///   reached, refuses the connection, or does not complete the handshake within
    ///   ``ConnectionOptions/connectTimeoutSeconds``.
    public init(_ conninfo: String, options: ConnectionOptions = ConnectionOptions()) throws {
        try Self.validate(conninfo)
        self.options = options
        // libpq uses the last non-empty value of a repeated keyword, and `dbname` expands into the
        // keywords of the conninfo (libpq "Database Connection Control Functions",
        // PQconnectdbParams): so the conninfo overrides the options, never the encoding.
        let defaults = options.libpqDefaults
        let keywords = defaults.map(\.keyword) + ["dbname", "client_encoding"]
        let values = defaults.map(\.value) + [conninfo, "UTF8"]
        let connection = withCStrings(keywords) { keywordPointers in
            withCStrings(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection else {
            throw PostgresError(.connectionFailed, "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = PostgresError.trimmed(PQerrorMessage(connection)) ?? "unknown error"
            PQfinish(connection)
            throw PostgresError(.connectionFailed, message)
        }
        handle = connection
        noticeRelay.install(on: connection)
    }

    deinit {
        close()
    }

    /// Whether the connection is open and was fine at its last use (`PQstatus` is `CONNECTION_OK`).
    /// A server that went away is only noticed by the next call.
    public var isHealthy: Bool {
        guard let handle else {
            return false
        }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Reads whatever the server sent while the connection was idle, without blocking, and
    /// reports whether the connection is still usable.
    ///
    /// A server that restarted or ended the backend sends an error and closes the socket;
    /// `PQconsumeInput` sees that, so a pooled connection that died while idle is replaced before
    /// it fails a request instead of after (`PQconsumeInput` on a non-blocking read, libpq
    /// "Asynchronous Command Processing").
    public func probe() -> Bool {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return false }
        // The first read may take only the server's farewell (a FATAL error), the second then
        // meets the closed socket and marks the connection bad.
        for _ in 0..<2 where PQconsumeInput(handle) == 0 { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// The server's version as an integer, for example 150018 for 15.18; 0 when closed.
    public var serverVersion: Int {
        guard let handle else {
            return 0
        }
        return Int(PQserverVersion(handle))
    }

    /// The process ID of the server backend serving this connection (for `pg_terminate_backend`,
    /// and to recognise one's own NOTIFY); 0 when closed.
    public var backendPID: Int32 {
        guard let handle else {
            return 0
        }
        return PQbackendPID(handle)
    }

    /// Whether the connection is inside a transaction block (open or failed).
    public var isInTransaction: Bool {
        guard let handle else {
            return false
        }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// Receives each NOTICE, WARNING or other non-error message the server sends, as
    /// `"SEVERITY: message"`. `nil` (the default) drops them; libpq's own default would print to stderr.
    /// Called on the thread running the statement that caused the message.
    public var noticeHandler: (@Sendable (String) -> Void)? {
        get { noticeRelay.handler }
        set { noticeRelay.handler = newValue }
    }

    /// Closes and re-opens the connection with the same parameters (`PQreset`), for example after
    /// the server terminated the backend. Session state (prepared statements, LISTENs) is lost.
    ///
    /// - Throws: `PostgresError(.connectionFailed)` when the connection cannot be re-established,
    ///   or when it was closed with ``close()``.
    public func reset() throws {
        guard let handle else {
            throw PostgresError(.connectionFailed, "connection is closed")
        }
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = PostgresError.trimmed(PQerrorMessage(handle)) ?? "unknown error"
            throw PostgresError(.connectionFailed, message)
        }
    }

    /// Closes the connection (`PQfinish`). Idempotent; later calls throw `.connectionLost`.
    public func close() {
        guard let handle else {
            return
        }
        self.handle = nil
        PQfinish(handle)
    }

    /// Runs one statement with the extended protocol (`PQsendQueryParams`): parameters and results
    /// in binary format.
    ///
    /// - Parameters:
    ///   - sql: One SQL statement with `$1`, `$2`, ... placeholders.
    ///   - binds: The parameters, `$1` first.
    /// - Returns: The statement's result.
    /// - Throws: `PostgresError(.server)` with the SQLSTATE when the statement fails;
    ///   `.connectionLost` when the connection broke or was closed; `.timeout` when the statement
    ///   timeout passed (the connection is closed; the statement may or may not have taken effect).
    @discardableResult
    public func query(_ sql: String, _ binds: [PostgresBind] = []) throws -> QueryResult {
        try roundTrip("query") { handle in
            try ParameterBuffer.with(binds) { count, types, values, lengths, formats in
                PQsendQueryParams(handle, sql, count, types, values, lengths, formats, 1)
            }
        }
    }

    /// Runs one statement with values as parameters; see ``query(_:_:)-([PostgresBind])``.
    ///
    /// - Parameters:
    ///   - sql: One SQL statement with `$1`, `$2`, ... placeholders.
    ///   - values: The parameter values, `$1` first.
    /// - Returns: The statement's result.
    /// - Throws: As ``query(_:_:)-([PostgresBind])``.
    @discardableResult
    public func query(_ sql: String, _ values: any PostgresEncodable...) throws -> QueryResult {
        try query(sql, values.map(\.postgresBind))
    }

    /// Runs a script of several statements separated by `;` with the simple query protocol
    /// (`PQsendQuery`), for migrations. No parameters. Stops at the first failing statement; unless
    /// the script manages its own transaction, statements before it stay committed. The statement
    /// timeout applies to the whole script.
    ///
    /// - Parameter script: The SQL statements.
    /// - Throws: `PostgresError(.server)` for the first statement that fails; `.connectionLost`;
    ///   `.timeout` (the connection is closed; some statements may have taken effect).
    public func execute(script: String) throws {
        _ = try roundTrip("script") { PQsendQuery($0, script) }
    }

    /// Prepares a named statement for this session (`PQsendPrepare`). Parameter types are inferred by
    /// the server; binds given to ``executePrepared(_:_:)`` must have those types (cast with `$1::int8`
    /// in the SQL to pin them).
    ///
    /// - Parameters:
    ///   - name: The statement's name, unique in the session.
    ///   - sql: One SQL statement with placeholders.
    /// - Throws: `PostgresError(.server)` (42P05 when the name is taken, or a syntax error);
    ///   `.connectionLost`; `.timeout` (the connection is closed).
    public func prepare(_ name: String, _ sql: String) throws {
        _ = try roundTrip("prepare") { PQsendPrepare($0, name, sql, 0, nil) }
    }

    /// Executes a statement prepared with ``prepare(_:_:)`` (`PQsendQueryPrepared`), results in binary.
    ///
    /// - Parameters:
    ///   - name: The prepared statement's name.
    ///   - binds: The parameters, `$1` first.
    /// - Returns: The statement's result.
    /// - Throws: `PostgresError(.server)` (26000 for an unknown name); `.connectionLost`; `.timeout`
    ///   (the connection is closed; the statement may or may not have taken effect).
    @discardableResult
    public func executePrepared(_ name: String, _ binds: [PostgresBind]) throws -> QueryResult {
        try roundTrip("prepared statement \(name)") { handle in
            try ParameterBuffer.with(binds) { count, _, values, lengths, formats in
                PQsendQueryPrepared(handle, name, count, values, lengths, formats, 1)
            }
        }
    }

    /// The open `PGconn *`, or the closed error.
    func openHandle() throws -> OpaquePointer {
        guard let handle else {
            throw PostgresError.closed
        }
        return handle
    }

    /// Returns the result of a completed command, throwing when it is an error or missing.
    ///
    /// - Parameters:
    ///   - owned: What libpq returned; `nil` means the connection failed or memory ran out.
    ///   - context: What was being done, for the message when there is no result.
    /// - Returns: `owned`.
    /// - Throws: `PostgresError` from the result or the connection.
    func check(_ owned: QueryResult?, context: String) throws -> QueryResult {
        let handle = try openHandle()
        guard let owned else {
            throw PostgresError(connection: handle, fallbackCode: .connectionLost, context: context)
        }
        let result = owned.handle
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return owned
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            throw PostgresError(.invalidArgument, "\(context): COPY needs copyFrom(_:_:)")
        default:
            throw PostgresError(result: result, connection: handle)
        }
    }
}

/// Calls `body` with a NULL-terminated array of C strings, valid only during the call.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let duplicates = strings.map { strdup($0) }
    defer {
        for pointer in duplicates {
            free(pointer)
        }
    }
    let pointers: [UnsafePointer<CChar>?] = duplicates.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
