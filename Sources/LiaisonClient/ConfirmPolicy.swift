/// When a ``Follower`` on a durable `ack=auto` subscription confirms its position to the server
/// with a cumulative `ACK <sid> <seq>`.
///
/// A confirm is sent when ``every`` messages were handed out since the last one, or ``interval``
/// after the first message that is not yet confirmed, whichever comes first. A message counts as
/// handed out only once the application asks for the next event (it has processed the previous
/// one), so a confirm never covers a message the application is still working on.
public struct ConfirmPolicy: Sendable, Equatable {
    /// Confirm after this many in-order messages; 100 by default. Values below 1 are taken as 1.
    public var every: Int
    /// Confirm at the latest this long after the first unconfirmed message; 500 ms by default.
    public var interval: Duration
    /// Whether ``Follower/stop()`` sends a last confirm before `QUIT`; `true` by default.
    public var confirmsOnStop: Bool

    /// Creates a policy; every parameter has the default named on its property.
    ///
    /// - Parameters:
    ///   - every: Messages per confirm.
    ///   - interval: The longest a handed-out message stays unconfirmed.
    ///   - confirmsOnStop: Whether a clean stop confirms what was handed out.
    public init(every: Int = 100, interval: Duration = .milliseconds(500), confirmsOnStop: Bool = true) {
        self.every = every
        self.interval = interval
        self.confirmsOnStop = confirmsOnStop
    }
}
