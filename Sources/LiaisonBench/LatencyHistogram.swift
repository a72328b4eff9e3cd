public import Histogram

/// Latencies recorded into an HdrHistogram at microsecond resolution, summarised in milliseconds.
///
/// Values from 1 µs to 10 minutes are kept with 3 significant digits (HdrHistogram's bounded
/// relative error, Gil Tene's HdrHistogram as ported by hdrhistogram-swift); a longer latency is
/// clamped to 10 minutes rather than dropped, so `count` always equals the number recorded.
public struct LatencyHistogram: Sendable {
    /// The highest latency kept exactly, in microseconds (10 minutes).
    public static let highestMicroseconds: UInt64 = 600_000_000

    /// The underlying histogram, in microseconds.
    public private(set) var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1,
        highestTrackableValue: Self.highestMicroseconds,
        numberOfSignificantValueDigits: .three
    )

    /// An empty histogram.
    public init() {}

    /// How many latencies were recorded.
    public var count: Int {
        Int(self.histogram.totalCount)
    }

    /// Records one latency; a negative one (clocks of two hosts) counts as 0.
    public mutating func record(_ latency: Duration) {
        self.record(microseconds: Int64(BenchStatistics.milliseconds(latency) * 1000))
    }

    /// Records one latency given in microseconds, clamped to 0…``highestMicroseconds``.
    public mutating func record(microseconds: Int64) {
        let value = UInt64(clamping: max(microseconds, 0))
        _ = self.histogram.record(min(value, Self.highestMicroseconds))
    }

    /// Adds every value of `other` (e.g. one subscriber's latencies into the run's).
    public mutating func add(_ other: LatencyHistogram) {
        self.histogram.add(other.histogram)
    }

    /// The percentiles reported by `bench`.
    public var summary: LatencySummary {
        guard self.count > 0 else {
            return LatencySummary()
        }
        func ms(_ percentile: Double) -> Double {
            Double(self.histogram.valueAtPercentile(percentile)) / 1000
        }
        return LatencySummary(
            count: self.count,
            p50: ms(50),
            p90: ms(90),
            p99: ms(99),
            p999: ms(99.9),
            max: Double(self.histogram.max) / 1000
        )
    }
}

/// The latency percentiles of one measurement, in milliseconds (0 when nothing was recorded).
public struct LatencySummary: Sendable, Equatable {
    /// How many latencies they summarise.
    public var count: Int
    /// Median, ms.
    public var p50: Double
    /// 90th percentile, ms.
    public var p90: Double
    /// 99th percentile, ms.
    public var p99: Double
    /// 99.9th percentile, ms.
    public var p999: Double
    /// The largest, ms (HdrHistogram's equivalent value: within 0.1% of the recorded one).
    public var max: Double

    /// Creates a summary; all zero by default.
    public init(count: Int = 0, p50: Double = 0, p90: Double = 0, p99: Double = 0, p999: Double = 0, max: Double = 0) {
        self.count = count
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.p999 = p999
        self.max = max
    }

    /// The element-wise median of several runs' summaries (each percentile separately; `count` summed).
    public static func median(_ summaries: [LatencySummary]) -> LatencySummary {
        func m(_ value: (LatencySummary) -> Double) -> Double {
            BenchStatistics.median(summaries.map(value))
        }
        return LatencySummary(
            count: summaries.reduce(0) { $0 + $1.count },
            p50: m(\.p50),
            p90: m(\.p90),
            p99: m(\.p99),
            p999: m(\.p999),
            max: m(\.max)
        )
    }
}
