import Foundation

/// What `liaisonctl status` shows of one daemon: its registry row (when read from
/// `liaison_nodes`) and what its metrics endpoint said.
struct NodeStatus: Sendable {
    /// How the daemon was found to be.
    enum State: String, Sendable {
        /// The endpoint answered.
        case up
        /// Its heartbeat is older than `--stale-after`: probably not running (not scraped).
        case stale
        /// It has no metrics endpoint (`metrics.listen` unset): only the registry row is known.
        case noEndpoint = "no-endpoint"
        /// The endpoint did not answer.
        case unreachable
    }

    /// One durable consumer's lag.
    struct Lag: Sendable {
        var account: String
        var consumer: String
        var lagSeqs: Int
        var unacknowledged: Int

        /// Keeps the larger of two daemons' readings of the same durable: each samples it on its
        /// own timer (`metrics.lagIntervalMs`), so they differ by at most one interval.
        mutating func merge(_ other: Lag) {
            if other.lagSeqs > self.lagSeqs { self = other }
        }
    }

    var node: String?
    var listenAddress: String?
    var metricsAddress: String?
    var version: String?
    var pid: Int?
    var heartbeatAgeSeconds: Double?
    var state: State = .unreachable
    var ready: Bool?
    var readyReasons: [String] = []
    var error: String?
    var uptimeSeconds: Int?
    var connections: Int?
    var subscriptions: Int?
    var published: Int?
    var delivered: Int?
    /// The upper bound of the commit-latency bucket holding the 99th percentile, in seconds.
    var commitP99Seconds: Double?
    var lags: [Lag] = []

    /// Whether a monitoring script should count the daemon as healthy (the exit status of
    /// `liaisonctl status`, docs/CLI.md): its endpoint answered and `/readyz` said 200, or it
    /// has no endpoint but a fresh heartbeat (the only sign there is, and a live one).
    var isHealthy: Bool {
        switch self.state {
        case .up: self.ready == true
        case .noEndpoint: true
        case .stale, .unreachable: false
        }
    }

    /// Fills in what the endpoint's `/metrics` and `/readyz` said.
    mutating func read(metrics: PrometheusText, ready: MetricsFetch.Answer, now: Date, top: Int) {
        self.state = .up
        self.ready = ready.status == 200
        self.readyReasons =
            ready.status == 200
            ? [] : ready.body.split(separator: "\n").map(String.init)
        if let info = metrics.all("liaison_node_info").first {
            self.node = self.node ?? info.labels["node"]
            self.version = self.version ?? info.labels["version"]
        }
        if let started = metrics.value("liaison_start_time_seconds"), started > 0 {
            self.uptimeSeconds = max(0, Int(now.timeIntervalSince1970 - started))
        }
        self.connections = metrics.value("liaison_connections_open").map { Int($0) }
        self.subscriptions = metrics.value("liaison_subscriptions").map { Int($0) }
        self.published = metrics.value("liaison_messages_published_total").map { Int($0) }
        self.delivered = metrics.value("liaison_messages_delivered_total").map { Int($0) }
        self.commitP99Seconds = metrics.quantileUpperBound("liaison_publish_commit_seconds", 0.99)
        let unacknowledged = Dictionary(
            metrics.all("liaison_durable_unacknowledged_messages").map {
                ("\($0.labels["account"] ?? "")/\($0.labels["consumer"] ?? "")", Int($0.value))
            },
            uniquingKeysWith: { first, _ in first }
        )
        self.lags = metrics.all("liaison_durable_lag_seqs").map { sample in
            let account = sample.labels["account"] ?? ""
            let consumer = sample.labels["consumer"] ?? ""
            return Lag(
                account: account,
                consumer: consumer,
                lagSeqs: Int(sample.value),
                unacknowledged: unacknowledged["\(account)/\(consumer)"] ?? 0
            )
        }
        .sorted { ($0.lagSeqs, $1.account, $1.consumer) > ($1.lagSeqs, $0.account, $0.consumer) }
        .prefix(max(0, top)).map { $0 }
    }

    /// The JSON object of `--json` (one line per daemon); absent values are `null`.
    var jsonObject: [String: Any] {
        func optional(_ value: Any?) -> Any { value ?? NSNull() }
        return [
            "node": optional(self.node),
            "listen": optional(self.listenAddress),
            "metrics": optional(self.metricsAddress),
            "version": optional(self.version),
            "pid": optional(self.pid),
            "heartbeat_age_seconds": optional(self.heartbeatAgeSeconds.map { Int($0.rounded()) }),
            "state": self.state.rawValue,
            "ready": optional(self.ready),
            "ready_reasons": self.readyReasons,
            "error": optional(self.error),
            "uptime_seconds": optional(self.uptimeSeconds),
            "connections": optional(self.connections),
            "subscriptions": optional(self.subscriptions),
            "published": optional(self.published),
            "delivered": optional(self.delivered),
            "commit_p99_ms": optional(self.commitP99Seconds.map { Int(($0 * 1000).rounded()) }),
            "durable_lag": self.lags.map {
                [
                    "account": $0.account, "consumer": $0.consumer, "lag_seqs": $0.lagSeqs,
                    "unacknowledged": $0.unacknowledged,
                ] as [String: Any]
            },
        ]
    }
}
