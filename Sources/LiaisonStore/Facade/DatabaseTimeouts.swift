import Postgres

/// How long the daemon waits for PostgreSQL, at each level (docs/CONFIGURATION.md).
public struct DatabaseTimeouts: Sendable, Equatable {
    /// libpq `connect_timeout`, in seconds (libpq counts values below 2 as 2).
    public var connectSeconds: Int
    /// Client-side deadline of one statement's round trip, in milliseconds (0: none); past it the
    /// connection is dropped.
    public var statementMilliseconds: Int64
    /// TCP keepalive idle time, in seconds (0: the kernel's).
    public var keepaliveIdleSeconds: Int
    /// `tcp_user_timeout`, in milliseconds (0: the kernel's).
    public var tcpUserTimeoutMilliseconds: Int
    /// Deadline of one storage call other than an append, in milliseconds.
    public var callMilliseconds: Int64

    /// Creates the timeouts; the defaults answer within 5 s while the database hangs.
    public init(
        connectSeconds: Int = 3,
        statementMilliseconds: Int64 = 5_000,
        keepaliveIdleSeconds: Int = 5,
        tcpUserTimeoutMilliseconds: Int = 5_000,
        callMilliseconds: Int64 = 5_000
    ) {
        self.connectSeconds = connectSeconds
        self.statementMilliseconds = statementMilliseconds
        self.keepaliveIdleSeconds = keepaliveIdleSeconds
        self.tcpUserTimeoutMilliseconds = tcpUserTimeoutMilliseconds
        self.callMilliseconds = callMilliseconds
    }
}

extension DatabaseTimeouts {
    /// The libpq connection options these timeouts stand for.
    var connectionOptions: ConnectionOptions {
        ConnectionOptions(
            connectTimeoutSeconds: self.connectSeconds,
            statementTimeoutMilliseconds: Int(self.statementMilliseconds),
            keepalivesIdleSeconds: self.keepaliveIdleSeconds,
            tcpUserTimeoutMilliseconds: self.tcpUserTimeoutMilliseconds
        )
    }
}
