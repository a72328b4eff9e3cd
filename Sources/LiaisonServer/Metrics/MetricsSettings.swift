/// The metrics and health endpoint, and the node registry's heartbeat (docs/CONFIGURATION.md,
/// `metrics.*`; docs/OPERATIONS.md, "Metrics").
public struct MetricsSettings: Sendable, Equatable {
    /// Where the HTTP endpoint (`/metrics`, `/healthz`, `/readyz`) listens; `nil` (the default)
    /// leaves it off. Port 0 picks a free port (logged as `metrics listening`).
    public var listen: (host: String, port: Int)?
    /// How often the daemon refreshes its `liaison_nodes` row, in milliseconds.
    public var heartbeatMilliseconds: Int64 = 5_000
    /// How often the durable-consumer lag gauges are read from the store, in milliseconds.
    public var lagIntervalMilliseconds: Int64 = 10_000
    /// How many durable consumers (the most lagging) get lag gauges: bounds the label sets.
    public var lagConsumers: Int = 20
    /// The daemon's version, as the node registry records it.
    public var version: String = "0.1.0"

    /// The defaults: endpoint off, heartbeat every 5 s, lag of the 20 most lagging consumers every 10 s.
    public init() {}

    public static func == (lhs: MetricsSettings, rhs: MetricsSettings) -> Bool {
        lhs.listen?.host == rhs.listen?.host && lhs.listen?.port == rhs.listen?.port
            && lhs.heartbeatMilliseconds == rhs.heartbeatMilliseconds
            && lhs.lagIntervalMilliseconds == rhs.lagIntervalMilliseconds && lhs.lagConsumers == rhs.lagConsumers
            && lhs.version == rhs.version
    }
}
