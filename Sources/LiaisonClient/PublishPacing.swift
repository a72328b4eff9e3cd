/// How ``LiaisonClient/publishWindowed(count:window:pacing:message:)`` spaces its publishes and
/// when it stops, on top of the window.
///
/// The default sends as fast as the window allows until `count` publishes are answered: the
/// load of a throughput benchmark. An `interval` paces the sends (publish `i` is written no
/// earlier than `i × interval` after the first), to measure latency at a fraction of peak
/// rate; a `deadline` stops sending new publishes at that instant (those in flight are still
/// awaited), to run for a duration instead of a count.
public struct PublishPacing: Sendable, Equatable {
    /// The time between the scheduled writes of two consecutive publishes, or `nil` for none.
    public var interval: Duration?
    /// No publish is written at or after this instant, or `nil` for no limit.
    public var deadline: ContinuousClock.Instant?

    /// Creates a pacing.
    ///
    /// - Parameters:
    ///   - interval: Time between scheduled writes, positive, or `nil` for as fast as the window allows.
    ///   - deadline: When to stop writing, or `nil`.
    public init(interval: Duration? = nil, deadline: ContinuousClock.Instant? = nil) {
        self.interval = interval
        self.deadline = deadline
    }

    /// A pacing of `rate` publishes per second (`nil` or 0: unpaced), ending at `deadline`.
    ///
    /// - Parameters:
    ///   - rate: Publishes per second, ≥ 0.
    ///   - deadline: When to stop writing, or `nil`.
    public init(rate: Double?, deadline: ContinuousClock.Instant? = nil) {
        let interval: Duration? =
            if let rate, rate > 0 { .nanoseconds(Int64((1e9 / rate).rounded())) } else { nil }
        self.init(interval: interval, deadline: deadline)
    }
}
