public import Foundation
public import Postgres

/// One row of `liaison_nodes` (migration 0012): a running daemon as it announces itself.
public struct NodeRecord: Sendable, Equatable {
    /// The node name of the greeting (`node=`).
    public var node: String
    /// The machine's host name.
    public var host: String
    /// The client listener's address, `HOST:PORT` as bound.
    public var listenAddress: String
    /// The metrics endpoint's address, `HOST:PORT` as bound; `nil` when it is off.
    public var metricsAddress: String?
    /// The daemon's process id.
    public var pid: Int
    /// The daemon's version (`liaisond --version`).
    public var version: String
    /// When the daemon started (wall clock).
    public var startedAt: Date
    /// When the row was last refreshed (the database's clock); set by the store.
    public var heartbeatAt: Date?

    /// Creates a record.
    ///
    /// - Parameters:
    ///   - node: The greeting's node name.
    ///   - host: The host name.
    ///   - listenAddress: The client listener, `HOST:PORT`.
    ///   - metricsAddress: The metrics endpoint, `HOST:PORT`, or `nil`.
    ///   - pid: The process id.
    ///   - version: The daemon's version.
    ///   - startedAt: When it started.
    ///   - heartbeatAt: When the row was last refreshed (`nil` before it is stored).
    public init(
        node: String,
        host: String,
        listenAddress: String,
        metricsAddress: String?,
        pid: Int,
        version: String,
        startedAt: Date,
        heartbeatAt: Date? = nil
    ) {
        self.node = node
        self.host = host
        self.listenAddress = listenAddress
        self.metricsAddress = metricsAddress
        self.pid = pid
        self.version = version
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
    }
}

/// The node registry in `liaison_nodes`: each daemon's heartbeat, read by `liaisonctl status`.
public struct NodeRegistry: Sendable {
    public init() {}

    /// Inserts or refreshes the daemon's row (keyed by node, host and listen address) and stamps
    /// its heartbeat with the database's clock; prunes rows whose heartbeat is older than
    /// `pruneAfterSeconds` (daemons that crashed long ago).
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func heartbeat(
        _ record: NodeRecord,
        pruneAfterSeconds: Int = 86_400,
        on connection: Connection
    )
        throws(StoreError)
    {
        try storeCall {
            try connection.query(
                """
                INSERT INTO liaison_nodes (node, host, listen_address, metrics_address, pid, version, started_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (node, host, listen_address) DO UPDATE SET
                    metrics_address = EXCLUDED.metrics_address, pid = EXCLUDED.pid, version = EXCLUDED.version,
                    started_at = EXCLUDED.started_at, heartbeat_at = clock_timestamp()
                """,
                [
                    record.node.postgresBind, record.host.postgresBind, record.listenAddress.postgresBind,
                    record.metricsAddress.postgresBind, Int64(record.pid).postgresBind, record.version.postgresBind,
                    record.startedAt.postgresBind,
                ]
            )
            try connection.query(
                "DELETE FROM liaison_nodes WHERE heartbeat_at < clock_timestamp() - make_interval(secs => $1)",
                [Int64(pruneAfterSeconds).postgresBind]
            )
        }
    }

    /// Deletes the daemon's row (graceful shutdown).
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func remove(_ record: NodeRecord, on connection: Connection) throws(StoreError) {
        _ = try storeCall {
            try connection.query(
                "DELETE FROM liaison_nodes WHERE node = $1 AND host = $2 AND listen_address = $3 AND pid = $4",
                [
                    record.node.postgresBind, record.host.postgresBind, record.listenAddress.postgresBind,
                    Int64(record.pid).postgresBind,
                ]
            )
        }
    }

    /// Every registered daemon by node, host and listen address, with the database's clock now
    /// (to judge staleness without trusting the reader's clock).
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func list(on connection: Connection) throws(StoreError) -> (nodes: [NodeRecord], now: Date) {
        try storeCall {
            let result = try connection.query(
                """
                SELECT node, host, listen_address, metrics_address, pid, version, started_at, heartbeat_at
                FROM liaison_nodes ORDER BY node, host, listen_address
                """
            )
            let nodes = try (0..<result.rowCount).map { row in
                NodeRecord(
                    node: try result.decode(String.self, row: row, column: 0),
                    host: try result.decode(String.self, row: row, column: 1),
                    listenAddress: try result.decode(String.self, row: row, column: 2),
                    metricsAddress: try result.decode(String?.self, row: row, column: 3),
                    pid: try result.decode(Int.self, row: row, column: 4),
                    version: try result.decode(String.self, row: row, column: 5),
                    startedAt: try result.decode(Date.self, row: row, column: 6),
                    heartbeatAt: try result.decode(Date.self, row: row, column: 7)
                )
            }
            let now = try connection.query("SELECT clock_timestamp()").decode(Date.self, row: 0, column: 0)
            return (nodes, now)
        }
    }
}
