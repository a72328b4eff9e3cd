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
        /// messages and catch up from the log instead (default 4 MiB; DESIGN.md invariant 5).
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

        /// Creates limits with the defaults above.
        public init() {}
    }

    /// Address to listen on (default `127.0.0.1`).
    public var host: String = "127.0.0.1"
    /// TCP port (default 7420; 0 picks a free port, as tests do).
    public var port: Int = 7420
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
    /// How long a publish `id` counts for deduplication, in seconds (default 7 days; 0: as long as
    /// the keys are stored).
    public var dedupeWindowSeconds: Int64 = 7 * 24 * 3600
    /// How long graceful shutdown waits for pending commits and replies, in milliseconds (default 10 000).
    public var shutdownGraceMilliseconds: Int64 = 10_000
    /// Per-connection limits.
    public var limits = Limits()

    /// Creates a configuration with defaults for everything but the database.
    public init(databaseURL: String) {
        self.databaseURL = databaseURL
    }
}
