import NIOCore

/// Everything the daemon's server needs to run, already parsed and checked.
///
/// `liaisond` builds it from `config/liaisond.json`, `LIAISON_*` environment variables and flags
/// (see docs/CONFIGURATION.md); tests build it directly.
public struct ServerConfiguration: Sendable {
    /// Per-connection limits and timers.
    public struct Limits: Sendable {
        /// Longest control line in bytes, without its line ending (default 4096).
        public var maxLineLength: Int = 4096
        /// Largest `PUB` payload in bytes (default 1 MiB).
        public var maxPayload: Int = 1 << 20
        /// Subscriptions one connection may hold (default 1000; more gets `ERR 429`).
        public var maxSubscriptions: Int = 1000
        /// Outbound bytes buffered for a connection before its subscriptions stop taking live
        /// messages and catch up from the log instead (default 4 MiB; invariant 5 of docs/ARCHITECTURE.md).
        public var highWaterMark: Int = 4 << 20
        /// Rows per replay page read from the log (default 256).
        public var replayPageSize: Int = 256
        /// Silence from a client, in milliseconds, after which the server sends `PING` (default 30 000).
        public var pingIntervalMilliseconds: Int64 = 30_000
        /// Unanswered server `PING`s after which the connection is closed (default 2).
        public var maxPingsOutstanding: Int = 2
        /// How long a connection may stay above its high-water mark without reading anything
        /// before it is closed, in milliseconds (default 60 000).
        public var stallTimeoutMilliseconds: Int64 = 60_000
        /// Consumer settings a `SUB` does not give: ack wait in milliseconds (default 30 000),
        /// deliveries before dead-lettering (default 5), unacknowledged messages in flight (default 1000).
        public var ackWaitMilliseconds: Int64 = 30_000
        public var maxDeliver: Int = 5
        public var maxInflight: Int = 1000
        /// Connections the daemon accepts in total (default 10 000; more get `ERR 429` and are closed).
        public var maxConnections: Int = 10_000
        /// Connections one account may hold at once (default 100; more get `ERR 429` and are closed).
        public var maxConnectionsPerAccount: Int = 100
        /// Publishes per second one account may make, across its connections (token bucket;
        /// default 10 000, 0 for no limit); more get `ERR 429`.
        public var publishRatePerSecond: Double = 10_000
        /// The token bucket's size: how many publishes may come at once (default 20 000).
        public var publishBurst: Double = 20_000
        /// How long a new connection has to authenticate, in milliseconds (default 10 000; 0: no limit).
        public var authTimeoutMilliseconds: Int64 = 10_000
        /// Failed `AUTH`s (per address and per account) answered at full speed; after them each
        /// answer waits `authBaseDelayMilliseconds`, doubling per failure (defaults 3 and 250).
        public var authFreeFailures: Int = 3
        public var authBaseDelayMilliseconds: Int64 = 250
        /// Failures after which the address or account is refused (`ERR 429`) until
        /// `authLockoutMilliseconds` passed since the last failure (defaults 10 and 15 minutes).
        public var authLockoutFailures: Int = 10
        public var authLockoutMilliseconds: Int64 = 15 * 60 * 1000
        /// How long a connection may send no command (PING/PONG do not count) before it is closed,
        /// in milliseconds (default 0: never).
        public var idleTimeoutMilliseconds: Int64 = 0

        /// Creates limits with the defaults above.
        public init() {}
    }

    /// Address to listen on (default `127.0.0.1`).
    public var host: String = "127.0.0.1"
    /// TCP port (default 7420; 0 picks a free port, as tests do).
    public var port: Int = 7420
    /// Whether the plaintext listener at ``host``:``port`` is opened (default `true`); turn it off
    /// to accept TLS connections only (then ``tls`` must be set).
    public var plaintextEnabled: Bool = true
    /// The TLS listener, with its certificate and optional client CA; `nil` (the default) opens none.
    public var tls: TLSSettings?
    /// This daemon's name in the greeting (`node=`).
    public var nodeName: String = "liaison"
    /// libpq connection string or URI of the database.
    public var databaseURL: String
    /// Connections in the read pool used for `AUTH` and replay (default 4).
    public var readPoolSize: Int = 4
    /// Event loop threads (default: the number of cores).
    public var eventLoopThreads: Int = System.coreCount
    /// Most messages in one group commit (default 4096).
    public var maxBatchCount: Int = 4096
    /// Batches the writer keeps in flight at once, each on a database connection of its own
    /// (default 1): the next one is sent and waits on the append lock while the previous one
    /// commits (docs/ARCHITECTURE.md, "Publish path").
    public var inFlightBatches: Int = 1
    /// How long a publish `id` counts for deduplication, in seconds (default 7 days; 0: as long as
    /// the keys are stored).
    public var dedupeWindowSeconds: Int64 = 7 * 24 * 3600
    /// How long graceful shutdown waits for pending commits and replies, in milliseconds (default 10 000).
    public var shutdownGraceMilliseconds: Int64 = 10_000
    /// How long a publish may wait for its commit before it is answered `ERR 503`, in
    /// milliseconds (default 5 000): the bound on a publisher's wait while the database hangs.
    public var publishTimeoutMilliseconds: Int64 = 5_000
    /// Deadline of every other storage call (`AUTH`, replay pages, consumer binds), in
    /// milliseconds (default 5 000).
    public var storageTimeoutMilliseconds: Int64 = 5_000
    /// libpq `connect_timeout`, in seconds (default 3; libpq counts values below 2 as 2).
    public var databaseConnectTimeoutSeconds: Int = 3
    /// TCP keepalive idle time on database connections, in seconds (default 5): with
    /// ``databaseTCPUserTimeoutMilliseconds`` this detects a database host that vanished.
    public var databaseKeepaliveIdleSeconds: Int = 5
    /// `tcp_user_timeout` of database connections, in milliseconds (default 5 000; 0: the
    /// kernel's): unacknowledged data for this long drops the connection.
    public var databaseTCPUserTimeoutMilliseconds: Int = 5_000
    /// Per-connection limits.
    public var limits = Limits()
    /// The log sealer and its checkpoints (docs/AUDIT.md).
    public var audit = AuditSettings()
    /// Receipts: who received and acknowledged what (docs/AUDIT.md, "Receipts").
    public var receipts = ReceiptSettings()
    /// Retention purging (docs/AUDIT.md, "Retention").
    public var retention = RetentionSettings()
    /// The metrics and health endpoint and the node heartbeat (docs/OPERATIONS.md, "Metrics").
    public var metrics = MetricsSettings()

    /// Creates a configuration with defaults for everything but the database.
    public init(databaseURL: String) {
        self.databaseURL = databaseURL
    }
}
