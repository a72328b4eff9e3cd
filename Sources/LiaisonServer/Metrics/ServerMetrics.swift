import LiaisonStore
import NIOConcurrencyHelpers
public import Prometheus

/// The daemon's metrics in a Prometheus registry of its own (docs/OPERATIONS.md, "Metrics").
///
/// Each server owns one, so several servers in one test process never share or fight over a
/// global bootstrap; the registry is handed to whoever exports it (``MetricsEndpoint``). Names
/// follow the Prometheus conventions: `liaison_` prefix, `_total` counters, base units
/// (`_seconds`, `_bytes`). The counts come from ``ServerCounters`` (one place counts, two views).
public final class ServerMetrics: Sendable {
    /// Every metric below; `emit(into:)` renders the text exposition format.
    public let registry = PrometheusCollectorRegistry()

    /// The counter or gauge of each ``ServerCounters/Snapshot`` field. Key paths are immutable
    /// values and the dictionary is never changed after `init`: safe to share.
    nonisolated(unsafe) private let fields: [WritableKeyPath<ServerCounters.Snapshot, Int>: @Sendable (Int) -> Void]
    /// Commit latency of each batch.
    let commitSeconds: DurationHistogram
    /// Messages per committed batch.
    let batchMessages: ValueHistogram
    /// Failed appends and failed session storage calls (connection lost, refused, timed out).
    let databaseErrors: Counter
    private let connectsOpened: Counter
    private let connectsFailed: Counter
    private let reportedConnects = NIOLockedValueBox(DatabaseConnectionStatistics())
    /// Refusals by command and code, created on first use (a handful of codes: bounded).
    private let refusals = NIOLockedValueBox<[ServerCounters.Refusal: Counter]>([:])
    /// Durable-consumer gauges by (account, consumer): only the most lagging, so bounded.
    private let lags = NIOLockedValueBox<[DurableKey: (lag: Gauge, unacknowledged: Gauge)]>([:])
    private let startTime: Gauge

    private struct DurableKey: Hashable {
        var account: String
        var consumer: String
    }

    init() {
        let registry = self.registry
        func counter(_ name: String, _ help: String) -> Counter {
            registry.makeCounter(
                descriptor: .init(namespace: "liaison", metricName: name, unitName: "total", helpText: help)
            )
        }
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: .init(namespace: "liaison", metricName: name, unitName: "", helpText: help))
        }
        func add(_ counter: Counter) -> @Sendable (Int) -> Void { { counter.increment(by: Int64($0)) } }
        func move(_ gauge: Gauge) -> @Sendable (Int) -> Void { { gauge.increment(by: Double($0)) } }
        self.fields = [
            \.connections: add(counter("connections", "Client connections accepted.")),
            \.openConnections: move(gauge("connections_open", "Client connections open now.")),
            \.subscriptions: move(gauge("subscriptions", "Subscriptions routed now (live or catching up).")),
            \.published: add(counter("messages_published", "Publishes committed and answered OK PUB.")),
            \.duplicates: add(
                counter("messages_duplicate", "Publishes that repeated an id= (OK PUB DUP, nothing stored).")
            ),
            \.publishFailures: add(
                counter("publish_failures", "Publishes answered ERR 503 (not stored or outcome unknown).")
            ),
            \.delivered: add(counter("messages_delivered", "MSG frames written to subscribers (live and replayed).")),
            \.catchUps: add(counter("catch_ups", "Live subscriptions that fell behind and caught up from the log.")),
            \.redelivered: add(
                counter("messages_redelivered", "Messages delivered again after their ack wait or a NAK.")
            ),
            \.deadLettered: add(counter("dead_letters", "Messages moved to the dead letters at max_deliver.")),
            \.replayPages: add(counter("replay_pages", "Replay pages read from the log.")),
            \.authFailures: add(counter("auth_failures", "AUTH attempts refused with ERR 401.")),
            \.authThrottled: add(counter("auth_throttled", "AUTH attempts refused by the throttle (ERR 429).")),
            \.bytesIn: add(counter("received_bytes", "Protocol bytes read from client connections (after TLS).")),
            \.bytesOut: add(counter("sent_bytes", "Protocol bytes written to client connections (before TLS).")),
        ]
        self.commitSeconds = registry.makeDurationHistogram(
            descriptor: .init(
                namespace: "liaison",
                metricName: "publish_commit",
                unitName: "seconds",
                helpText: "Time from a batch's append call to its commit."
            ),
            buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000].map { Duration.milliseconds($0) }
        )
        self.batchMessages = registry.makeValueHistogram(
            descriptor: .init(
                namespace: "liaison",
                metricName: "publish_batch",
                unitName: "messages",
                helpText: "Messages per committed batch (group commit)."
            ),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]
        )
        self.databaseErrors = counter(
            "database_errors",
            "Batch appends and session storage calls (AUTH, binds, replay) that failed in the database."
        )
        self.connectsOpened = counter(
            "database_connections_opened",
            "Database connections opened (first ones and reconnects)."
        )
        self.connectsFailed = counter("database_connect_failures", "Database connection attempts that failed.")
        self.startTime = gauge("start_time_seconds", "When the daemon started, in seconds since the Unix epoch.")
    }

    /// Follows one ``ServerCounters/add(_:_:)``.
    func add(_ field: WritableKeyPath<ServerCounters.Snapshot, Int>, _ amount: Int) {
        self.fields[field]?(amount)
    }

    /// Follows one ``ServerCounters/refused(_:code:)``.
    func refused(_ refusal: ServerCounters.Refusal) {
        let counter = self.refusals.withLockedValue { counters -> Counter in
            if let counter = counters[refusal] { return counter }
            let metric = refusal.command == .publish ? "publishes_refused" : "subscriptions_refused"
            let counter = self.registry.makeCounter(
                descriptor: .init(
                    namespace: "liaison",
                    metricName: metric,
                    unitName: "total",
                    helpText: "Commands refused with ERR <code>, by code."
                ),
                labels: [("code", String(refusal.code))]
            )
            counters[refusal] = counter
            return counter
        }
        counter.increment()
    }

    /// Records the daemon's start time (wall clock, seconds since 1970), node name and version
    /// (`liaison_node_info{node,version} 1`, so a scrape names its daemon).
    func started(atUnixSeconds seconds: Double, node: String, version: String) {
        self.startTime.set(to: seconds)
        self.registry.makeGauge(
            descriptor: .init(
                namespace: "liaison",
                metricName: "node_info",
                unitName: "",
                helpText: "Always 1; the labels name the daemon (greeting node=) and its version."
            ),
            labels: [("node", node), ("version", version)]
        ).set(to: 1)
    }

    /// Brings the database connection counters up to the storage's own counts.
    func update(connections statistics: DatabaseConnectionStatistics) {
        let (opened, failed) = self.reportedConnects.withLockedValue { reported in
            defer { reported = statistics }
            return (statistics.opened - reported.opened, statistics.failed - reported.failed)
        }
        if opened > 0 { self.connectsOpened.increment(by: Int64(opened)) }
        if failed > 0 { self.connectsFailed.increment(by: Int64(failed)) }
    }

    /// Replaces the durable-consumer gauges with these consumers' (the most lagging ones): a
    /// consumer no longer among them loses its series, so the label sets stay bounded.
    func update(lags: [DurableLag]) {
        self.lags.withLockedValue { gauges in
            var kept: [DurableKey: (lag: Gauge, unacknowledged: Gauge)] = [:]
            for lag in lags {
                let key = DurableKey(account: lag.account, consumer: lag.consumer)
                let pair = gauges.removeValue(forKey: key) ?? self.makeLagGauges(key)
                pair.lag.set(to: Double(lag.lagSeqs))
                pair.unacknowledged.set(to: Double(lag.unacknowledged))
                kept[key] = pair
            }
            for (_, pair) in gauges {
                self.registry.unregisterGauge(pair.lag)
                self.registry.unregisterGauge(pair.unacknowledged)
            }
            gauges = kept
        }
    }

    private func makeLagGauges(_ key: DurableKey) -> (lag: Gauge, unacknowledged: Gauge) {
        let labels = [("account", key.account), ("consumer", key.consumer)]
        let lag = self.registry.makeGauge(
            descriptor: .init(
                namespace: "liaison",
                metricName: "durable_lag",
                unitName: "seqs",
                helpText: "Seqs between a durable consumer's ack floor and the log's head."
            ),
            labels: labels
        )
        let unacknowledged = self.registry.makeGauge(
            descriptor: .init(
                namespace: "liaison",
                metricName: "durable_unacknowledged",
                unitName: "messages",
                helpText: "Messages delivered to an ack=explicit durable consumer and not yet acknowledged."
            ),
            labels: labels
        )
        return (lag, unacknowledged)
    }
}
