/// What ``LiaisonClient/publishWindowed(count:window:pacing:message:)`` measured.
public struct WindowedPublishReport: Sendable {
    /// Publishes answered `OK PUB` (duplicates included): each one committed.
    public var acknowledged: Int
    /// Of those, how many the server answered with `DUP`.
    public var duplicates: Int
    /// The `ERR` replies, in order.
    public var errors: [ServerError]
    /// For each acknowledged publish, the time from its write to its reply being decoded.
    public var latencies: [Duration]
    /// From the first write to the last reply.
    public var elapsed: Duration

    /// Creates an empty report.
    public init() {
        self.acknowledged = 0
        self.duplicates = 0
        self.errors = []
        self.latencies = []
        self.elapsed = .zero
    }
}
