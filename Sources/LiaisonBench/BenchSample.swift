/// What one measurement of `liaisonctl bench` found: one publisher count in one run.
public struct BenchSample: Sendable, Equatable {
    /// Publisher connections.
    public var publishers: Int
    /// Subscriber connections, each receiving every message published.
    public var subscribers: Int
    /// Publishes answered `OK PUB` (each one committed), duplicates included.
    public var acknowledged: Int
    /// Of those, answered `DUP` (nothing stored).
    public var duplicates: Int
    /// `ERR` replies to publishes.
    public var errors: Int
    /// From the first publish written to the last reply, seconds.
    public var publishSeconds: Double
    /// Publish→ack latencies (write of the `PUB` to its `OK PUB` decoded), ms.
    public var ack: LatencySummary
    /// `MSG` frames received by all subscribers together.
    public var deliveries: Int
    /// From the first publish written to the last delivery, seconds (0 without subscribers).
    public var deliverySeconds: Double
    /// Publish→delivery latencies (write of the `PUB` to the subscriber reading its `MSG`), ms.
    public var delivery: LatencySummary
    /// Messages the replaying subscriber received (0 without `--replay`).
    public var replayed: Int
    /// From its `SUB … from=all` written to the last replayed message, seconds.
    public var replaySeconds: Double
    /// Rows per second of the `COPY` baseline of the same run, 0 when not measured.
    public var copyRowsPerSecond: Double

    /// Creates a sample; every figure 0 unless given.
    public init(
        publishers: Int,
        subscribers: Int = 0,
        acknowledged: Int = 0,
        duplicates: Int = 0,
        errors: Int = 0,
        publishSeconds: Double = 0,
        ack: LatencySummary = LatencySummary(),
        deliveries: Int = 0,
        deliverySeconds: Double = 0,
        delivery: LatencySummary = LatencySummary(),
        replayed: Int = 0,
        replaySeconds: Double = 0,
        copyRowsPerSecond: Double = 0
    ) {
        self.publishers = publishers
        self.subscribers = subscribers
        self.acknowledged = acknowledged
        self.duplicates = duplicates
        self.errors = errors
        self.publishSeconds = publishSeconds
        self.ack = ack
        self.deliveries = deliveries
        self.deliverySeconds = deliverySeconds
        self.delivery = delivery
        self.replayed = replayed
        self.replaySeconds = replaySeconds
        self.copyRowsPerSecond = copyRowsPerSecond
    }

    /// Committed publishes per second (all publishers together).
    public var messagesPerSecond: Double {
        Self.rate(self.acknowledged, self.publishSeconds)
    }

    /// Deliveries per second over all subscribers (the fan-out rate).
    public var deliveriesPerSecond: Double {
        Self.rate(self.deliveries, self.deliverySeconds)
    }

    /// Replayed messages per second.
    public var replayPerSecond: Double {
        Self.rate(self.replayed, self.replaySeconds)
    }

    /// Replay rate over the live publish rate of the same messages; 0 when either is unknown.
    public var replayToLive: Double {
        Self.ratio(self.replayPerSecond, self.messagesPerSecond)
    }

    /// Publish rate over the `COPY` rate; 0 when COPY was not measured.
    public var ratioToCopy: Double {
        Self.ratio(self.messagesPerSecond, self.copyRowsPerSecond)
    }

    private static func rate(_ count: Int, _ seconds: Double) -> Double {
        seconds > 0 ? Double(count) / seconds : 0
    }

    private static func ratio(_ value: Double, _ base: Double) -> Double {
        base > 0 ? value / base : 0
    }
}
