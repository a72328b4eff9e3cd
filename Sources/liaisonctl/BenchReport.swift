/// The measurements of `bench`, and their rendering as a table or as JSON.
struct BenchReport {
    /// One publisher count in one run.
    struct Sample {
        var messagesPerSecond: Double
        var p50Milliseconds: Double
        var p99Milliseconds: Double
        var acknowledged: Int
        var errors: Int
        var copyRowsPerSecond: Double

        var ratioToCopy: Double {
            self.copyRowsPerSecond > 0 ? self.messagesPerSecond / self.copyRowsPerSecond : 0
        }
    }

    var runID: String
    var messages: Int
    var size: Int
    var pipeline: Int
    var runs: Int
    var publisherCounts: [Int]
    /// Samples by publisher count, one per run.
    var samples: [Int: [Sample]] = [:]
    /// COPY rows per second, one per run.
    var copyRates: [Double] = []

    private func median(_ publishers: Int, _ value: (Sample) -> Double) -> Double {
        BenchStatistics.median((self.samples[publishers] ?? []).map(value))
    }

    /// A table for people: the median of every column over the runs.
    var table: String {
        var lines = [
            "liaisonctl bench: \(self.messages) messages of \(self.size) bytes, pipeline \(self.pipeline), "
                + "median of \(self.runs) run\(self.runs == 1 ? "" : "s"), run id \(self.runID)"
        ]
        var table = TextTable(["PUBLISHERS", "MSGS/S", "P50 MS", "P99 MS", "ERRORS", "COPY ROWS/S", "DAEMON/COPY"])
        for publishers in self.publisherCounts {
            table.append([
                String(publishers),
                Self.format(self.median(publishers, \.messagesPerSecond), digits: 0),
                Self.format(self.median(publishers, \.p50Milliseconds), digits: 2),
                Self.format(self.median(publishers, \.p99Milliseconds), digits: 2),
                String((self.samples[publishers] ?? []).reduce(0) { $0 + $1.errors }),
                Self.format(BenchStatistics.median(self.copyRates), digits: 0),
                Self.format(self.median(publishers, \.ratioToCopy), digits: 3),
            ])
        }
        lines.append(table.rendered)
        return lines.joined(separator: "\n")
    }

    /// The same figures for machines, each run's samples included.
    var json: [String: Any] {
        let results: [[String: Any]] = self.publisherCounts.map { publishers in
            let runs: [[String: Any]] = (self.samples[publishers] ?? []).map { sample in
                [
                    "messages_per_second": sample.messagesPerSecond, "p50_ms": sample.p50Milliseconds,
                    "p99_ms": sample.p99Milliseconds, "acknowledged": sample.acknowledged, "errors": sample.errors,
                    "copy_rows_per_second": sample.copyRowsPerSecond, "daemon_to_copy": sample.ratioToCopy,
                ]
            }
            return [
                "publishers": publishers,
                "messages_per_second": self.median(publishers, \.messagesPerSecond),
                "p50_ms": self.median(publishers, \.p50Milliseconds),
                "p99_ms": self.median(publishers, \.p99Milliseconds),
                "errors": (self.samples[publishers] ?? []).reduce(0) { $0 + $1.errors },
                "daemon_to_copy": self.median(publishers, \.ratioToCopy),
                "runs": runs,
            ]
        }
        return [
            "run_id": self.runID, "messages": self.messages, "size": self.size, "pipeline": self.pipeline,
            "runs": self.runs, "copy_rows_per_second": BenchStatistics.median(self.copyRates), "results": results,
        ]
    }

    private static func format(_ value: Double, digits: Int) -> String {
        guard value.isFinite else {
            return "-"
        }
        var scale = 1.0
        for _ in 0..<digits {
            scale *= 10
        }
        let rounded = (value * scale).rounded() / scale
        guard digits > 0 else {
            return String(Int(rounded))
        }
        var text = String(rounded)
        let fraction = text.split(separator: ".").dropFirst().first?.count ?? 0
        if fraction < digits {
            text += String(repeating: "0", count: digits - fraction)
        }
        return text
    }
}
