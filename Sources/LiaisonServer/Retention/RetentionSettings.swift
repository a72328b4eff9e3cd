/// The retention settings of the daemon (`retention.*`, docs/CONFIGURATION.md and docs/AUDIT.md).
public struct RetentionSettings: Sendable, Equatable {
    /// Whether this daemon runs the retention service (default `true`; with no policy set, a
    /// pass only expires dedupe keys).
    public var enabled = true
    /// Seconds between the starts of two purge passes (default 3 600); the first runs at start.
    public var intervalSeconds: Int64 = 3_600
    /// Messages (and dedupe keys) per purge transaction (default 1 000).
    public var batchSize = 1_000

    /// Creates the defaults.
    public init() {}
}
