extension BenchReport {
    /// Every figure as one JSON-ready object (numbers, strings, arrays, nested objects): the
    /// settings, the median of every figure per publisher count and each run's sample, so a
    /// script needs nothing else. Rates are per second, latencies in milliseconds.
    public var json: [String: Any] {
        let settings = self.settings
        var object: [String: Any] = [
            "run_id": self.runID, "messages": settings.messages, "size": settings.size,
            "window": settings.window, "pipeline": settings.window, "runs": settings.runs,
            "subscribers": settings.subscribers, "dedupe": settings.dedupe, "replay": settings.replay,
            "publishers": settings.publishers,
            "results": settings.publishers.map(self.result),
        ]
        if let seconds = settings.durationSeconds {
            object["duration_s"] = seconds
        }
        if let rate = settings.rate {
            object["rate_per_publisher"] = rate
        }
        if !self.copyRates.isEmpty {
            object["copy_rows_per_second"] = BenchStatistics.median(self.copyRates)
            object["copy_runs"] = self.copyRates
        }
        return object
    }

    private func result(_ publishers: Int) -> [String: Any] {
        let samples = self.samples[publishers] ?? []
        return [
            "publishers": publishers,
            "messages_per_second": self.median(publishers, \.messagesPerSecond),
            "ack_ms": Self.json(self.ack(publishers)),
            "p50_ms": self.ack(publishers).p50, "p99_ms": self.ack(publishers).p99,
            "deliveries_per_second": self.median(publishers, \.deliveriesPerSecond),
            "delivery_ms": Self.json(self.delivery(publishers)),
            "replay_per_second": self.median(publishers, \.replayPerSecond),
            "replay_to_live": self.median(publishers, \.replayToLive),
            "daemon_to_copy": self.median(publishers, \.ratioToCopy),
            "errors": samples.reduce(0) { $0 + $1.errors },
            "runs": samples.map(Self.json),
        ]
    }

    private static func json(_ sample: BenchSample) -> [String: Any] {
        [
            "publishers": sample.publishers, "subscribers": sample.subscribers,
            "acknowledged": sample.acknowledged, "duplicates": sample.duplicates, "errors": sample.errors,
            "publish_s": sample.publishSeconds, "messages_per_second": sample.messagesPerSecond,
            "ack_ms": Self.json(sample.ack), "p50_ms": sample.ack.p50, "p99_ms": sample.ack.p99,
            "deliveries": sample.deliveries, "delivery_s": sample.deliverySeconds,
            "deliveries_per_second": sample.deliveriesPerSecond, "delivery_ms": Self.json(sample.delivery),
            "replayed": sample.replayed, "replay_s": sample.replaySeconds,
            "replay_per_second": sample.replayPerSecond, "replay_to_live": sample.replayToLive,
            "copy_rows_per_second": sample.copyRowsPerSecond, "daemon_to_copy": sample.ratioToCopy,
        ]
    }

    /// A latency summary as `{"count", "p50", "p90", "p99", "p99_9", "max"}` (ms).
    public static func json(_ summary: LatencySummary) -> [String: Any] {
        [
            "count": summary.count, "p50": summary.p50, "p90": summary.p90, "p99": summary.p99,
            "p99_9": summary.p999, "max": summary.max,
        ]
    }
}
