import ArgumentParser
import Foundation
import LiaisonClient
import Postgres

/// `liaisonctl bench`: the project's benchmark of acknowledged (committed) publish throughput.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure committed publishes per second and ack latency against a raw COPY baseline.",
        discussion: """
            For each publisher count P, opens P connections that together publish --messages messages of \
            --size random bytes to bench.<run-id>.<connection>, each keeping at most --pipeline PUBs \
            unanswered. Only OK PUB replies count: each one means the message committed.

            In the same run, a COPY of the same number of rows of the same size into the messages table \
            (committed, then deleted) gives PostgreSQL's own rate; DAEMON/COPY is the ratio. Every figure \
            is the median over --runs runs. Progress goes to standard error.
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var server: ServerOptions

    @Option(help: ArgumentHelp("Messages per publisher count and run.", valueName: "n"))
    var messages: Int = 20_000

    @Option(help: ArgumentHelp("Payload bytes per message.", valueName: "bytes"))
    var size: Int = 256

    @Option(
        help: ArgumentHelp("Comma-separated publisher (connection) counts.", valueName: "list"),
        transform: Bench.parseCounts
    )
    var publishers: [Int] = [1, 16]

    @Option(help: ArgumentHelp("The most unanswered PUBs per connection.", valueName: "n"))
    var pipeline: Int = 64

    @Option(help: ArgumentHelp("Repeat everything this many times and report medians.", valueName: "k"))
    var runs: Int = 3

    @Flag(help: "Print the results as one JSON object instead of a table.")
    var json = false

    static func parseCounts(_ text: String) throws -> [Int] {
        let counts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("--publishers must be a comma-separated list of counts >= 1, got '\(text)'")
        }
        return counts.compactMap { $0 }
    }

    func validate() throws {
        guard self.messages >= 1 else {
            throw ValidationError("--messages must be at least 1")
        }
        guard self.size >= 0 else {
            throw ValidationError("--size must not be negative")
        }
        guard self.pipeline >= 1 else {
            throw ValidationError("--pipeline must be at least 1")
        }
        guard self.runs >= 1 else {
            throw ValidationError("--runs must be at least 1")
        }
        if let tooMany = self.publishers.first(where: { $0 > self.messages }) {
            throw ValidationError("--publishers \(tooMany) is more than --messages \(self.messages)")
        }
    }

    func run() async throws {
        let runID = String(UInt32.random(in: .min ... .max), radix: 16)
        var generator = SystemRandomNumberGenerator()
        let pool = (0..<(self.size + 4096)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let account = try self.server.credentials.account
        var report = BenchReport(
            runID: runID,
            messages: self.messages,
            size: self.size,
            pipeline: self.pipeline,
            runs: self.runs,
            publisherCounts: self.publishers
        )
        var firstError: ServerError?
        let worker = try self.database.makeWorker(name: "liaisonctl-bench")
        defer { worker.shutdown() }
        for run in 1...self.runs {
            var samples: [(Int, BenchReport.Sample)] = []
            for publishers in self.publishers {
                let (sample, error) = try await self.measureDaemon(publishers: publishers, runID: runID, pool: pool)
                firstError = firstError ?? error
                samples.append((publishers, sample))
                Self.progress(
                    "run \(run)/\(self.runs): \(publishers) publisher(s): \(Int(sample.messagesPerSecond)) msgs/s, "
                        + String(format: "p50 %.2f ms, p99 %.2f ms", sample.p50Milliseconds, sample.p99Milliseconds)
                )
            }
            let copy = try await CopyBaseline.measure(
                rows: self.messages,
                size: self.size,
                pool: pool,
                topic: "bench.\(runID).copy",
                account: account,
                worker: worker
            )
            Self.progress("run \(run)/\(self.runs): COPY: \(Int(copy.rowsPerSecond)) rows/s")
            report.copyRates.append(copy.rowsPerSecond)
            for (publishers, var sample) in samples {
                sample.copyRowsPerSecond = copy.rowsPerSecond
                report.samples[publishers, default: []].append(sample)
            }
        }
        print(self.json ? JSONLine.encode(report.json) : report.table)
        if let firstError {
            throw CLIFailure("some publishes were refused; the first reply was \(firstError)")
        }
    }

    /// Publishes `messages` messages over `publishers` connections and measures them.
    private func measureDaemon(
        publishers: Int,
        runID: String,
        pool: [UInt8]
    ) async throws -> (BenchReport.Sample, ServerError?) {
        var clients: [LiaisonClient] = []
        let reports: [WindowedPublishReport]
        let elapsed: Duration
        do {
            for _ in 0..<publishers {
                clients.append(try await self.server.connect())
            }
            let started = ContinuousClock.now
            reports = try await self.publish(over: clients, runID: runID, pool: pool)
            elapsed = ContinuousClock.now - started
            for client in clients {
                try await client.quit()
            }
        } catch {
            for client in clients {
                await client.close()
            }
            throw error
        }
        let latencies = reports.flatMap(\.latencies).map(BenchStatistics.milliseconds)
        let acknowledged = reports.reduce(0) { $0 + $1.acknowledged }
        let sample = BenchReport.Sample(
            messagesPerSecond: Double(acknowledged) / max(BenchStatistics.seconds(elapsed), 1e-9),
            p50Milliseconds: BenchStatistics.percentile(latencies, 50),
            p99Milliseconds: BenchStatistics.percentile(latencies, 99),
            acknowledged: acknowledged,
            errors: reports.reduce(0) { $0 + $1.errors.count },
            copyRowsPerSecond: 0
        )
        return (sample, reports.lazy.compactMap(\.errors.first).first)
    }

    /// Runs one sliding window per connection, all at once, each with its share of the messages.
    private func publish(
        over clients: [LiaisonClient],
        runID: String,
        pool: [UInt8]
    ) async throws -> [WindowedPublishReport] {
        let size = self.size
        let window = self.pipeline
        let span = max(pool.count - size, 1)
        let messages = self.messages
        return try await withThrowingTaskGroup(of: WindowedPublishReport.self) { group in
            for (index, client) in clients.enumerated() {
                let count = messages / clients.count + (index < messages % clients.count ? 1 : 0)
                let topic = "bench.\(runID).\(index)"
                group.addTask {
                    try await client.publishWindowed(count: count, window: window) { number in
                        let offset = (number &* 131 &+ index &* 17) % span
                        return (topic, Array(pool[offset..<(offset + size)]), [])
                    }
                }
            }
            var reports: [WindowedPublishReport] = []
            for try await report in group {
                reports.append(report)
            }
            return reports
        }
    }

    private static func progress(_ line: String) {
        FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
    }
}
