/// Time limits for a ``Connection``: how long connecting may take, how long one round trip may
/// take, and how quickly TCP notices a peer that stopped answering.
///
/// The defaults bound connecting and TCP failure detection to a few seconds; the statement
/// deadline is off by default (migrations, COPY and admin queries may legitimately run long), and
/// the daemon sets its own (5 s) so a hung server (processes stopped, TCP still accepting) is
/// abandoned in time:
///
/// | property | default | unit | libpq keyword |
/// | --- | --- | --- | --- |
/// | ``connectTimeoutSeconds`` | 3 | seconds | `connect_timeout` |
/// | ``statementTimeoutMilliseconds`` | 0 (none) | milliseconds | none (client-side) |
/// | ``keepalivesIdleSeconds`` | 5 | seconds | `keepalives_idle` |
/// | ``keepalivesIntervalSeconds`` | 2 | seconds | `keepalives_interval` |
/// | ``keepalivesCount`` | 3 | probes | `keepalives_count` |
/// | ``tcpUserTimeoutMilliseconds`` | 5000 | milliseconds | `tcp_user_timeout` |
///
/// The libpq keywords (PostgreSQL manual, libpq "Parameter Key Words") are passed to
/// `PQconnectdbParams` *before* the connection string, together with `keepalives=1`, so a value the
/// connection string sets itself (`?connect_timeout=10`, `keepalives=0`) wins. The keepalive and
/// TCP settings apply to TCP connections only; libpq ignores them for Unix-domain sockets, and
/// `tcp_user_timeout` where the system lacks `TCP_USER_TIMEOUT`.
///
/// ```swift
/// let connection = try Connection(url, options: ConnectionOptions(statementTimeoutMilliseconds: 30_000))
/// ```
public struct ConnectionOptions: Sendable, Hashable {
    /// The longest wait for a connection to be established, in whole seconds (libpq
    /// `connect_timeout`, applied to each host address in turn). libpq treats 1 as 2, and 0 or a
    /// negative value as "wait indefinitely". Also bounds ``Connection/reset()``.
    public var connectTimeoutSeconds: Int

    /// The client-side deadline of every round trip, in milliseconds; 0 or less means none.
    ///
    /// Covers ``Connection/query(_:_:)-([PostgresBind])``, ``Connection/executePrepared(_:_:)``,
    /// ``Connection/prepare(_:_:)``, ``Connection/execute(script:)``, the statements of
    /// ``Connection/transaction(_:)``, a whole ``Connection/pipeline(_:)``, and the start and the end
    /// of ``Connection/copyFrom(_:_:)`` (each with a deadline of its own; the data written in
    /// between is bounded by ``tcpUserTimeoutMilliseconds`` only). When it passes, the connection is
    /// closed and the call throws `PostgresError(.timeout)`. **The statement may or may not have
    /// taken effect**: a `COMMIT` that timed out may have committed. The server is not told to stop;
    /// a backend that is still alive finishes or aborts the statement on its own.
    ///
    /// This is not the server's `statement_timeout` setting: it also fires when the server does not
    /// answer at all.
    public var statementTimeoutMilliseconds: Int

    /// Seconds of idleness before TCP sends the first keepalive probe (libpq `keepalives_idle`);
    /// 0 uses the system default.
    public var keepalivesIdleSeconds: Int

    /// Seconds between unanswered keepalive probes (libpq `keepalives_interval`); 0 uses the
    /// system default.
    public var keepalivesIntervalSeconds: Int

    /// Unanswered keepalive probes after which the connection is considered dead (libpq
    /// `keepalives_count`); 0 uses the system default.
    public var keepalivesCount: Int

    /// Milliseconds that sent data may stay unacknowledged before the kernel closes the connection
    /// (libpq `tcp_user_timeout`, the `TCP_USER_TIMEOUT` socket option); 0 uses the system default.
    public var tcpUserTimeoutMilliseconds: Int

    /// Creates options; every parameter has the default listed in the type's table.
    ///
    /// - Parameters:
    ///   - connectTimeoutSeconds: See ``connectTimeoutSeconds``, in seconds.
    ///   - statementTimeoutMilliseconds: See ``statementTimeoutMilliseconds``, in milliseconds.
    ///   - keepalivesIdleSeconds: See ``keepalivesIdleSeconds``, in seconds.
    ///   - keepalivesIntervalSeconds: See ``keepalivesIntervalSeconds``, in seconds.
    ///   - keepalivesCount: See ``keepalivesCount``, a number of probes.
    ///   - tcpUserTimeoutMilliseconds: See ``tcpUserTimeoutMilliseconds``, in milliseconds.
    public init(
        connectTimeoutSeconds: Int = 3,
        statementTimeoutMilliseconds: Int = 0,
        keepalivesIdleSeconds: Int = 5,
        keepalivesIntervalSeconds: Int = 2,
        keepalivesCount: Int = 3,
        tcpUserTimeoutMilliseconds: Int = 5_000
    ) {
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.keepalivesIdleSeconds = keepalivesIdleSeconds
        self.keepalivesIntervalSeconds = keepalivesIntervalSeconds
        self.keepalivesCount = keepalivesCount
        self.tcpUserTimeoutMilliseconds = tcpUserTimeoutMilliseconds
    }

    /// The libpq keywords and values these options stand for, to be placed before the connection
    /// string in `PQconnectdbParams` so the string can override them.
    var libpqDefaults: [(keyword: String, value: String)] {
        [
            ("connect_timeout", String(connectTimeoutSeconds)),
            ("keepalives", "1"),
            ("keepalives_idle", String(keepalivesIdleSeconds)),
            ("keepalives_interval", String(keepalivesIntervalSeconds)),
            ("keepalives_count", String(keepalivesCount)),
            ("tcp_user_timeout", String(tcpUserTimeoutMilliseconds)),
        ]
    }
}
