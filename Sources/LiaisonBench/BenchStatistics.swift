/// The order statistics `liaisonctl bench` reports.
public enum BenchStatistics {
    /// The nearest-rank percentile of `values`: the smallest value with at least `percent`% of
    /// the values at or below it; 0 when empty.
    ///
    /// - Parameters:
    ///   - values: Samples, in any order.
    ///   - percent: 0–100, e.g. 50 or 99.
    public static func percentile(_ values: [Double], _ percent: Double) -> Double {
        guard !values.isEmpty else {
            return 0
        }
        let sorted = values.sorted()
        let rank = Int((percent / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// The median: the middle value, or the mean of the two middle values; 0 when empty.
    public static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else {
            return 0
        }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// A duration in milliseconds.
    public static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    /// A duration in seconds.
    public static func seconds(_ duration: Duration) -> Double {
        Self.milliseconds(duration) / 1000
    }
}
