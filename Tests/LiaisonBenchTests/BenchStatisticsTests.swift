import LiaisonBench
import Testing

/// Medians, nearest-rank percentiles and the HdrHistogram summary `bench` reports.
@Suite struct BenchStatisticsTests {
    @Test func medianOfOddAndEvenCounts() {
        #expect(BenchStatistics.median([]) == 0)
        #expect(BenchStatistics.median([3, 1, 2]) == 2)
        #expect(BenchStatistics.median([4, 1, 3, 2]) == 2.5)
    }

    @Test func nearestRankPercentile() {
        let values = (1...100).map(Double.init)
        #expect(BenchStatistics.percentile(values, 50) == 50)
        #expect(BenchStatistics.percentile(values, 99) == 99)
        #expect(BenchStatistics.percentile(values, 100) == 100)
        #expect(BenchStatistics.percentile([], 99) == 0)
    }

    @Test func durationsInMillisecondsAndSeconds() {
        #expect(BenchStatistics.milliseconds(.milliseconds(1500)) == 1500)
        #expect(BenchStatistics.seconds(.microseconds(2_500_000)) == 2.5)
    }

    @Test func histogramPercentilesAreInMilliseconds() {
        var histogram = LatencyHistogram()
        for microseconds in 1...1000 {
            histogram.record(microseconds: Int64(microseconds * 10))  // 10 µs … 10 ms
        }
        let summary = histogram.summary
        #expect(summary.count == 1000)
        // 3 significant digits: within 0.1% of the exact nearest-rank value.
        #expect(abs(summary.p50 - 5.0) <= 0.005)
        #expect(abs(summary.p90 - 9.0) <= 0.009)
        #expect(abs(summary.p99 - 9.9) <= 0.01)
        #expect(abs(summary.p999 - 9.99) <= 0.01)
        #expect(abs(summary.max - 10.0) <= 0.01)
    }

    @Test func anEmptyHistogramSummarisesAsZero() {
        #expect(LatencyHistogram().summary == LatencySummary())
    }

    @Test func negativeAndHugeLatenciesAreClampedNotDropped() {
        var histogram = LatencyHistogram()
        histogram.record(microseconds: -5)
        histogram.record(.seconds(3600))
        #expect(histogram.count == 2)
        #expect(histogram.summary.p50 == 0)
        #expect(abs(histogram.summary.max - 600_000) <= 600)
    }

    @Test func addingSubscribersHistogramsKeepsEveryValue() {
        var first = LatencyHistogram()
        var second = LatencyHistogram()
        first.record(.milliseconds(1))
        second.record(.milliseconds(3))
        second.record(.milliseconds(3))
        first.add(second)
        #expect(first.count == 3)
        #expect(abs(first.summary.p50 - 3) <= 0.003)
    }

    @Test func summariesOfRunsTakeTheMedianOfEachPercentile() {
        let runs = [
            LatencySummary(count: 10, p50: 1, p90: 2, p99: 9, p999: 10, max: 11),
            LatencySummary(count: 10, p50: 3, p90: 4, p99: 5, p999: 6, max: 7),
            LatencySummary(count: 10, p50: 2, p90: 3, p99: 4, p999: 5, max: 30),
        ]
        #expect(
            LatencySummary.median(runs) == LatencySummary(count: 30, p50: 2, p90: 3, p99: 5, p999: 6, max: 11)
        )
    }

    @Test func residentMemoryFromProcStatus() {
        let status = "Name:\tliaisond\nVmPeak:\t  900 kB\nVmRSS:\t   20480 kB\nThreads:\t4\n"
        #expect(ProcessMemory.residentBytes(status: status) == 20480 * 1024)
        #expect(ProcessMemory.residentBytes(status: "Name:\tx\n") == nil)
        #expect(ProcessMemory.residentBytes(status: "VmRSS:\tlots kB\n") == nil)
        #expect(ProcessMemory.bytesPerConnection(before: 1000, after: 41_000, connections: 10) == 4000)
        #expect(ProcessMemory.bytesPerConnection(before: 1000, after: 2000, connections: 0) == 0)
    }
}
