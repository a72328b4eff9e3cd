/// How a ``Follower`` restores a lost link: capped exponential backoff with full jitter, a reset
/// once a connection has proved stable, an optional limit on attempts, and a dead-link probe.
///
/// The delay before reconnect attempt *n* (counting from 0 since the last reset) is drawn
/// uniformly from 0 to `min(maxDelay, initialDelay × multiplierⁿ)` milliseconds: the "Full
/// Jitter" schedule of Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015
/// (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/). Drawing from the
/// whole range spreads the reconnects of many offices that lost the same link at the same moment,
/// so they do not return in waves.
public struct ReconnectPolicy: Sendable, Equatable {
    /// The ceiling of the first delay; 250 ms by default.
    public var initialDelay: Duration
    /// The largest ceiling any delay may reach; 30 s by default.
    public var maxDelay: Duration
    /// How much the ceiling grows after each attempt; 2 by default. Values below 1 are taken as 1.
    public var multiplier: Double
    /// A connection that stayed subscribed at least this long resets the schedule to
    /// ``initialDelay`` and the attempt count to 0; 10 s by default.
    public var resetAfter: Duration
    /// How many reconnect attempts in a row may be made without a connection that lasted
    /// ``resetAfter``; `nil` (the default) for no limit, 0 for never reconnecting.
    public var maxAttempts: Int?
    /// When the server has sent nothing for this long, the follower sends `PING`; when nothing
    /// arrives for as long again, it takes the link as lost and closes it. A dead link that TCP
    /// does not notice (no FIN, no RST) is found this way. 15 s by default; `nil` never probes.
    public var heartbeat: Duration?
    /// How long connecting, authenticating and subscribing may take before the attempt counts as
    /// failed; 30 s by default.
    public var attemptTimeout: Duration

    /// Creates a policy; every parameter has the default named on its property.
    ///
    /// - Parameters:
    ///   - initialDelay: The ceiling of the first delay.
    ///   - maxDelay: The largest ceiling.
    ///   - multiplier: The growth of the ceiling per attempt.
    ///   - resetAfter: The uptime after which the schedule starts again.
    ///   - maxAttempts: The attempts allowed in a row, or `nil` for no limit.
    ///   - heartbeat: The silence after which the link is probed, or `nil`.
    ///   - attemptTimeout: The longest one attempt may take.
    public init(
        initialDelay: Duration = .milliseconds(250),
        maxDelay: Duration = .seconds(30),
        multiplier: Double = 2,
        resetAfter: Duration = .seconds(10),
        maxAttempts: Int? = nil,
        heartbeat: Duration? = .seconds(15),
        attemptTimeout: Duration = .seconds(30)
    ) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.multiplier = multiplier
        self.resetAfter = resetAfter
        self.maxAttempts = maxAttempts
        self.heartbeat = heartbeat
        self.attemptTimeout = attemptTimeout
    }

    /// Never reconnect: the follower ends when its link is lost.
    public static let never = ReconnectPolicy(maxAttempts: 0)
}

extension Duration {
    /// The duration in whole milliseconds, rounded down; negative durations give 0.
    var wholeMilliseconds: Int {
        let (seconds, attoseconds) = self.components
        let total = seconds.multipliedReportingOverflow(by: 1000)
        guard !total.overflow else { return seconds < 0 ? 0 : Int.max }
        return max(0, Int(total.partialValue + attoseconds / 1_000_000_000_000_000))
    }
}
