/// One reply line from the server and when it was decoded, for latency measurements.
struct Reply: Sendable {
    /// The line without its line ending.
    var line: String
    /// When the client decoded it.
    var receivedAt: ContinuousClock.Instant
}
