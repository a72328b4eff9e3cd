/// The measurements of one `liaisonctl bench` invocation, and their rendering as table cells or
/// as one JSON object. Every figure shown is the median over the runs of that figure.
public struct BenchReport: Sendable {
    /// The invocation's random id, part of every topic it publishes to.
    public var runID: String
    /// What was measured.
    public var settings: BenchSettings
    /// Samples by publisher count, one per run.
    public var samples: [Int: [BenchSample]] = [:]
    /// `COPY` baseline rows per second, one per run (empty when not measured).
    public var copyRates: [Double] = []

    /// Creates an empty report.
    public init(runID: String, settings: BenchSettings) {
        self.runID = runID
        self.settings = settings
    }

    /// Whether to show subscriber columns.
    private var hasSubscribers: Bool {
        self.settings.subscribers > 0
    }

    /// The median of one figure over the runs of one publisher count.
    public func median(_ publishers: Int, _ value: (BenchSample) -> Double) -> Double {
        BenchStatistics.median((self.samples[publishers] ?? []).map(value))
    }

    /// The medians of the ack latency percentiles of one publisher count.
    public func ack(_ publishers: Int) -> LatencySummary {
        LatencySummary.median((self.samples[publishers] ?? []).map(\.ack))
    }

    /// The medians of the delivery latency percentiles of one publisher count.
    public func delivery(_ publishers: Int) -> LatencySummary {
        LatencySummary.median((self.samples[publishers] ?? []).map(\.delivery))
    }

    /// One line saying what was measured, for the top of the table.
    public var title: String {
        let settings = self.settings
        let amount =
            if let seconds = settings.durationSeconds { "\(Self.format(seconds, digits: 1)) s" } else {
                "\(settings.messages) messages"
            }
        var parts = ["liaisonctl bench: \(amount) of \(settings.size) bytes", "window \(settings.window)"]
        if let rate = settings.rate {
            parts.append("rate \(Self.format(rate, digits: 0)) msgs/s per publisher")
        }
        if settings.subscribers > 0 {
            parts.append("\(settings.subscribers) subscriber\(settings.subscribers == 1 ? "" : "s")")
        }
        parts.append(settings.dedupe ? "id= on" : "id= off")
        if settings.replay {
            parts.append("replay")
        }
        parts.append("median of \(settings.runs) run\(settings.runs == 1 ? "" : "s"), run id \(self.runID)")
        return parts.joined(separator: ", ")
    }

    /// The table's column names; latencies in ms.
    public var header: [String] {
        var header = ["PUBS", "MSGS/S", "ACK P50", "P90", "P99", "P99.9", "MAX"]
        if self.hasSubscribers {
            header += ["SUBS", "DELIVERED/S", "E2E P50", "E2E P99", "E2E MAX"]
        }
        if self.settings.replay {
            header += ["REPLAY/S", "REPLAY/LIVE"]
        }
        if !self.copyRates.isEmpty {
            header += ["COPY ROWS/S", "DAEMON/COPY"]
        }
        return header + ["ERRORS"]
    }

    /// One row of cells per publisher count, in the order given, matching ``header``.
    public var rows: [[String]] {
        self.settings.publishers.map { publishers in
            let ack = self.ack(publishers)
            var row = [
                String(publishers), Self.format(self.median(publishers, \.messagesPerSecond), digits: 0),
                Self.format(ack.p50, digits: 2), Self.format(ack.p90, digits: 2), Self.format(ack.p99, digits: 2),
                Self.format(ack.p999, digits: 2), Self.format(ack.max, digits: 2),
            ]
            if self.hasSubscribers {
                let delivery = self.delivery(publishers)
                row += [
                    String(self.settings.subscribers),
                    Self.format(self.median(publishers, \.deliveriesPerSecond), digits: 0),
                    Self.format(delivery.p50, digits: 2), Self.format(delivery.p99, digits: 2),
                    Self.format(delivery.max, digits: 2),
                ]
            }
            if self.settings.replay {
                row += [
                    Self.format(self.median(publishers, \.replayPerSecond), digits: 0),
                    Self.format(self.median(publishers, \.replayToLive), digits: 2),
                ]
            }
            if !self.copyRates.isEmpty {
                row += [
                    Self.format(BenchStatistics.median(self.copyRates), digits: 0),
                    Self.format(self.median(publishers, \.ratioToCopy), digits: 3),
                ]
            }
            return row + [String((self.samples[publishers] ?? []).reduce(0) { $0 + $1.errors })]
        }
    }

    /// `value` rounded to `digits` decimals with trailing zeros kept (`12.50`); `-` when not finite.
    public static func format(_ value: Double, digits: Int) -> String {
        guard value.isFinite else {
            return "-"
        }
        var scale = 1.0
        for _ in 0..<digits {
            scale *= 10
        }
        let scaled = (abs(value) * scale).rounded()
        let sign = value < 0 && scaled > 0 ? "-" : ""
        guard digits > 0 else {
            return sign + String(Int(scaled))
        }
        let whole = Int(scaled / scale)
        let fraction = String(Int(scaled) - whole * Int(scale))
        return sign + String(whole) + "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
}
