import LiaisonBench
import Testing

/// The table cells and JSON of `bench`: medians over runs, columns only for what was measured.
@Suite struct BenchReportTests {
    private func sample(_ publishers: Int, rate: Double, p99: Double, copy: Double) -> BenchSample {
        BenchSample(
            publishers: publishers,
            acknowledged: Int(rate),
            publishSeconds: 1,
            ack: LatencySummary(count: Int(rate), p50: 1, p90: 2, p99: p99, p999: p99 * 2, max: 40),
            copyRowsPerSecond: copy
        )
    }

    @Test func numbersKeepTheirDecimals() {
        #expect(BenchReport.format(12.5, digits: 2) == "12.50")
        #expect(BenchReport.format(0.004, digits: 2) == "0.00")
        #expect(BenchReport.format(1.005, digits: 3) == "1.005")
        #expect(BenchReport.format(63_016.4, digits: 0) == "63016")
        #expect(BenchReport.format(-0.25, digits: 1) == "-0.3")
        #expect(BenchReport.format(.infinity, digits: 2) == "-")
    }

    @Test func thePlainTableShowsMediansAndTheCopyRatio() {
        var report = BenchReport(runID: "ab12", settings: BenchSettings(publishers: [16], runs: 3))
        report.samples[16] = [
            self.sample(16, rate: 60_000, p99: 30, copy: 100_000),
            self.sample(16, rate: 50_000, p99: 10, copy: 100_000),
            self.sample(16, rate: 70_000, p99: 20, copy: 100_000),
        ]
        report.copyRates = [100_000, 90_000, 110_000]
        #expect(
            report.header == [
                "PUBS", "MSGS/S", "ACK P50", "P90", "P99", "P99.9", "MAX", "COPY ROWS/S", "DAEMON/COPY", "ERRORS",
            ]
        )
        #expect(
            report.rows == [["16", "60000", "1.00", "2.00", "20.00", "40.00", "40.00", "100000", "0.600", "0"]]
        )
        #expect(
            report.title
                == "liaisonctl bench: 20000 messages of 256 bytes, window 64, id= off, median of 3 runs, run id ab12"
        )
    }

    @Test func subscriberAndReplayColumnsAppearWhenMeasured() {
        let settings = BenchSettings(publishers: [1], subscribers: 2, rate: 500, dedupe: true, replay: true, runs: 1)
        var report = BenchReport(runID: "cd34", settings: settings)
        report.samples[1] = [
            BenchSample(
                publishers: 1,
                subscribers: 2,
                acknowledged: 1000,
                publishSeconds: 2,
                deliveries: 2000,
                deliverySeconds: 2,
                delivery: LatencySummary(count: 2000, p50: 0.5, p90: 1, p99: 1.5, p999: 2, max: 3),
                replayed: 1000,
                replaySeconds: 0.1
            )
        ]
        #expect(
            report.header == [
                "PUBS", "MSGS/S", "ACK P50", "P90", "P99", "P99.9", "MAX", "SUBS", "DELIVERED/S", "E2E P50",
                "E2E P99", "E2E MAX", "REPLAY/S", "REPLAY/LIVE", "ERRORS",
            ]
        )
        #expect(
            report.rows == [
                [
                    "1", "500", "0.00", "0.00", "0.00", "0.00", "0.00", "2", "1000", "0.50", "1.50", "3.00", "10000",
                    "20.00", "0",
                ]
            ]
        )
        #expect(report.title.contains("rate 500 msgs/s per publisher, 2 subscribers, id= on, replay"))
    }

    @Test func theJSONHoldsMediansAndEveryRun() throws {
        var report = BenchReport(runID: "ef56", settings: BenchSettings(publishers: [1], runs: 2))
        report.samples[1] = [
            self.sample(1, rate: 10_000, p99: 3, copy: 60_000),
            self.sample(1, rate: 20_000, p99: 5, copy: 60_000),
        ]
        report.copyRates = [60_000, 60_000]
        let json = report.json
        #expect(json["run_id"] as? String == "ef56")
        #expect(json["copy_rows_per_second"] as? Double == 60_000)
        let results = try #require(json["results"] as? [[String: Any]])
        #expect(results.count == 1)
        #expect(results[0]["messages_per_second"] as? Double == 15_000)
        #expect(results[0]["daemon_to_copy"] as? Double == 0.25)
        let ack = try #require(results[0]["ack_ms"] as? [String: Any])
        #expect(ack["p99"] as? Double == 4)
        #expect(ack["p99_9"] as? Double == 8)
        #expect((results[0]["runs"] as? [[String: Any]])?.count == 2)
    }
}
