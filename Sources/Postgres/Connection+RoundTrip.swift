internal import CLibPQ

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Round trips with a client-side deadline, on libpq's asynchronous API (PostgreSQL manual, libpq
/// "Asynchronous Command Processing"): send with a `PQsend*` function in nonblocking mode, flush
/// with `PQflush`, then wait with `poll(2)` until `PQisBusy` says `PQgetResult` will not block.
/// Every wait is bounded by the deadline; when it passes the connection is closed, because its
/// state (and the statement's fate) is unknown.
extension Connection {
    /// The instant a round trip starting now must end by, `nil` without a statement timeout.
    func statementDeadline() -> ContinuousClock.Instant? {
        let milliseconds = options.statementTimeoutMilliseconds
        return milliseconds > 0 ? ContinuousClock.now + .milliseconds(milliseconds) : nil
    }

    /// Sends one command and returns its last result, within the statement deadline.
    ///
    /// Like `PQexec`, keeps the last result of a multi-statement string (a failing statement ends
    /// the string, so its error is last) except that a first error wins over a later one (a backend
    /// terminated mid-statement sends its 57P01 error, then libpq adds "server closed the
    /// connection"), and stops at a COPY result, which `PQgetResult` would otherwise repeat forever.
    ///
    /// - Parameters:
    ///   - context: What is being done, for error messages.
    ///   - send: Sends the command with a `PQsend*` function and returns its result (1 = sent).
    /// - Returns: The last result; `nil` when libpq produced none (the connection failed).
    /// - Throws: `PostgresError(.timeout)` (the connection is then closed), `.connectionLost`.
    func sendAndCollect(_ context: String, _ send: (OpaquePointer) throws -> Int32) throws -> QueryResult? {
        let handle = try openHandle()
        let deadline = statementDeadline()
        try withNonblocking(handle, context) {
            guard try send(handle) == 1 else {
                throw PostgresError(connection: handle, fallbackCode: .connectionLost, context: context)
            }
            try flushOutput(handle, until: deadline, context)
        }
        var last: QueryResult?
        while true {
            try awaitResult(handle, until: deadline, context)
            guard let raw = PQgetResult(handle) else {
                return last
            }
            if let last, PQresultStatus(last.handle) == PGRES_FATAL_ERROR, PQresultStatus(raw) == PGRES_FATAL_ERROR {
                PQclear(raw)
                continue
            }
            last = QueryResult(handle: raw)
            switch PQresultStatus(raw) {
            case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
                return last
            default:
                continue
            }
        }
    }

    /// Sends one command and returns its result, checked; see ``sendAndCollect(_:_:)``.
    func roundTrip(_ context: String, _ send: (OpaquePointer) throws -> Int32) throws -> QueryResult {
        try check(sendAndCollect(context, send), context: context)
    }

    /// Runs `body` with the connection in nonblocking mode, so `PQsend*` and `PQputCopyEnd` only
    /// queue data and `PQflush` never blocks; blocking mode is restored afterwards (unless the
    /// connection was closed meanwhile).
    func withNonblocking<R>(_ handle: OpaquePointer, _ context: String, _ body: () throws -> R) throws -> R {
        guard PQsetnonblocking(handle, 1) == 0 else {
            throw PostgresError(connection: handle, fallbackCode: .connectionLost, context: context)
        }
        defer {
            if self.handle == handle {
                // The output queue is empty here (flushed, or the call failed), so this does not block.
                _ = PQsetnonblocking(handle, 0)
            }
        }
        return try body()
    }

    /// Sends everything libpq has queued, reading input meanwhile so a server that answers while
    /// we send is never blocked on us (libpq "Asynchronous Command Processing", `PQflush`).
    ///
    /// - Throws: `PostgresError(.timeout)` when `deadline` passes (the connection is closed);
    ///   `.connectionLost`.
    func flushOutput(_ handle: OpaquePointer, until deadline: ContinuousClock.Instant?, _ context: String) throws {
        while true {
            let flushed = PQflush(handle)
            if flushed == 0 {
                return
            }
            guard flushed > 0 else {
                throw PostgresError(connection: handle, fallbackCode: .connectionLost, context: context)
            }
            let events = try waitForSocket(handle, Int16(POLLIN | POLLOUT), until: deadline, context)
            if events & Int16(POLLIN) != 0 {
                try consume(handle, context)
            }
        }
    }

    /// Reads input until `PQgetResult` can return without blocking.
    ///
    /// When the connection broke while reading, returns as well: `PQgetResult` then does not block
    /// either, and reports what the server sent before it went away and the broken connection.
    ///
    /// - Throws: `PostgresError(.timeout)` when `deadline` passes (the connection is closed);
    ///   `.connectionLost` when reading failed on a connection libpq still considers up.
    func awaitResult(_ handle: OpaquePointer, until deadline: ContinuousClock.Instant?, _ context: String) throws {
        while PQisBusy(handle) == 1 {
            _ = try waitForSocket(handle, Int16(POLLIN), until: deadline, context)
            if PQconsumeInput(handle) == 0 {
                guard PQstatus(handle) == CONNECTION_BAD else {
                    throw PostgresError(connection: handle, fallbackCode: .connectionLost, context: context)
                }
                return
            }
        }
    }

    /// Waits until the socket is ready for `events`.
    ///
    /// - Returns: The events that occurred (`revents`; errors and hang-ups included).
    /// - Throws: `PostgresError(.timeout)` when `deadline` passes first (the connection is then
    ///   closed); `.connectionLost` when there is no socket or `poll` fails.
    private func waitForSocket(
        _ handle: OpaquePointer,
        _ events: Int16,
        until deadline: ContinuousClock.Instant?,
        _ context: String
    ) throws -> Int16 {
        guard let revents = try pollSocket(handle, events, until: deadline) else {
            close()
            throw PostgresError(
                .timeout,
                "\(context): no answer from the server within \(options.statementTimeoutMilliseconds) ms; "
                    + "the connection was closed and the statement may or may not have taken effect"
            )
        }
        return revents
    }

    private func consume(_ handle: OpaquePointer, _ context: String) throws {
        guard PQconsumeInput(handle) == 1 else {
            throw PostgresError(connection: handle, fallbackCode: .connectionLost, context: context)
        }
    }
}

/// Waits with `poll(2)` until the connection's socket is ready for `events` or `deadline` passes,
/// retrying after signals.
///
/// - Parameters:
///   - handle: The `PGconn *`.
///   - events: `POLLIN`, `POLLOUT` or both.
///   - deadline: When to give up; `nil` waits indefinitely.
/// - Returns: The events that occurred, or `nil` when the deadline passed first.
/// - Throws: `PostgresError(.connectionLost)` when the connection has no socket or `poll` fails.
func pollSocket(_ handle: OpaquePointer, _ events: Int16, until deadline: ContinuousClock.Instant?) throws -> Int16? {
    let socket = PQsocket(handle)
    guard socket >= 0 else {
        throw PostgresError(.connectionLost, "connection has no socket")
    }
    while true {
        var wait = Int32(-1)
        if let deadline {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else {
                return nil
            }
            wait = Int32(clamping: remaining.roundedUpMilliseconds)
        }
        var descriptor = pollfd(fd: socket, events: events, revents: 0)
        let ready = poll(&descriptor, 1, wait)
        if ready > 0 {
            return descriptor.revents
        }
        if ready < 0 && errno != EINTR {
            throw PostgresError(.connectionLost, "poll failed: errno \(errno)")
        }
    }
}
