import Foundation
import LiaisonBench
import LiaisonClient

/// `bench --seeks N`: how long a `from=<seq>` subscription takes to reach its first message at a
/// random depth of the stored log (issue 11's "seek at any depth", measured with 0, 1 M and 10 M
/// messages stored by `scripts/bench-suite.sh`).
struct BenchSeek {
    /// What one measurement found.
    struct Result {
        /// The log's head when the measurement started (the seq of the one message it published).
        var head: Int64
        /// `SUB … from=<seq>` written → its first `MSG`, per seek.
        var latencies = LatencyHistogram()

        var table: String {
            let summary = self.latencies.summary
            var table = TextTable(["SEEKS", "HEAD SEQ", "P50 MS", "P90 MS", "P99 MS", "MAX MS"])
            table.append([
                String(summary.count), String(self.head), BenchReport.format(summary.p50, digits: 2),
                BenchReport.format(summary.p90, digits: 2), BenchReport.format(summary.p99, digits: 2),
                BenchReport.format(summary.max, digits: 2),
            ])
            return "liaisonctl bench: from=<seq> seeks\n" + table.rendered
        }

        var json: [String: Any] {
            ["seeks": self.latencies.count, "head_seq": self.head, "seek_ms": BenchReport.json(self.latencies.summary)]
        }
    }

    let server: ServerOptions

    /// Publishes one message to `<prefix>.head` to learn the head seq, then `count` times
    /// subscribes to `pattern` from a uniformly random seq in 1...head, waits for that
    /// subscription's first message and unsubscribes, on one connection.
    ///
    /// - Parameters:
    ///   - count: Seeks to time, at least 1.
    ///   - pattern: What each subscription selects; a pattern every stored message matches
    ///     (e.g. `bench.>`) makes each seek land at its seq.
    ///   - prefix: Where the head message goes (a topic the account may publish to).
    /// - Throws: ``CLIFailure`` when a seek got no message within 30 s; the client's errors.
    func measure(count: Int, pattern: String, prefix: String) async throws -> Result {
        let client = try await self.server.connect()
        do {
            let result = try await Self.seek(client, count: count, pattern: pattern, prefix: prefix)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

    private static func seek(
        _ client: LiaisonClient,
        count: Int,
        pattern: String,
        prefix: String
    ) async throws -> Result {
        let head = try await client.publish(topic: "\(prefix).head", payload: Array("seek".utf8)).seq
        var result = Result(head: head)
        var messages = client.messages.makeAsyncIterator()
        for index in 0..<count {
            let sid = "k\(index)"
            let from = Int64.random(in: 1...max(1, head))
            // A seek that never answers ends the stream (and the measurement) after 30 s.
            let watchdog = Task {
                try await Task.sleep(for: .seconds(30))
                await client.close()
            }
            let started = ContinuousClock.now
            try await client.subscribe(sid: sid, pattern: pattern, options: [("from", String(from))])
            var reached = false
            // Earlier seeks' pages may still be arriving: skip them.
            while let message = await messages.next() {
                if message.sid == sid {
                    reached = true
                    break
                }
            }
            let elapsed = ContinuousClock.now - started
            watchdog.cancel()
            guard reached else { throw CLIFailure("seek from=\(from) got no message within 30 s") }
            result.latencies.record(elapsed)
            try await client.unsubscribe(sid: sid)
        }
        return result
    }
}
