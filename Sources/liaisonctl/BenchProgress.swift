import Foundation
import LiaisonBench

/// The progress of one `bench` measurement on standard error: every second, how many publishes
/// were written and delivered so far and the rate since it started.
final class BenchProgress: Sendable {
    /// Publishes written.
    let published = BenchTally()
    /// Messages received by subscribers.
    let delivered = BenchTally()
    private let label: String
    private let subscribers: Int

    init(label: String, subscribers: Int) {
        self.label = label
        self.subscribers = subscribers
    }

    /// Starts printing; cancel the task to stop.
    func start() -> Task<Void, Never> {
        let started = ContinuousClock.now
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                guard !Task.isCancelled else {
                    return
                }
                let seconds = max(BenchStatistics.seconds(.now - started), 1e-9)
                var line =
                    "\(self.label): \(self.published.value) written, "
                    + "\(Int(Double(self.published.value) / seconds)) msgs/s so far"
                if self.subscribers > 0 {
                    line +=
                        "; \(self.subscribers) sub(s): \(self.delivered.value) delivered, "
                        + "\(Int(Double(self.delivered.value) / seconds)) msgs/s so far"
                }
                Self.line(line)
            }
        }
    }

    /// A one-line summary of a finished sample.
    static func describe(_ sample: BenchSample) -> String {
        var text =
            "\(sample.publishers) publisher(s): \(Int(sample.messagesPerSecond)) msgs/s, "
            + "ack p50 \(BenchReport.format(sample.ack.p50, digits: 2)) ms, "
            + "p99 \(BenchReport.format(sample.ack.p99, digits: 2)) ms"
        if sample.subscribers > 0 {
            text +=
                "; \(sample.subscribers) sub(s): \(Int(sample.deliveriesPerSecond)) deliveries/s, "
                + "e2e p99 \(BenchReport.format(sample.delivery.p99, digits: 2)) ms"
        }
        if sample.replayed > 0 {
            text += "; replay \(Int(sample.replayPerSecond)) msgs/s"
        }
        return text
    }

    /// Writes `bench: <line>` to standard error.
    static func line(_ line: String) {
        FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
    }
}
