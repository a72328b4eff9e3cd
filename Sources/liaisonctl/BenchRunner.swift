import LiaisonBench
import LiaisonClient

/// Runs one measurement of `bench`: subscribers, publishers, then the optional replay.
struct BenchRunner: Sendable {
    let settings: BenchSettings
    let server: ServerOptions
    let runID: String
    /// Random bytes the payloads are cut from (size + 4 KiB, so consecutive payloads differ).
    let pool: [UInt8]

    /// How long deliveries or a replay may stop coming before the measurement gives up on the rest.
    static let stallLimit: Duration = .seconds(10)

    init(settings: BenchSettings, server: ServerOptions, runID: String) {
        self.settings = settings
        self.server = server
        self.runID = runID
        var generator = SystemRandomNumberGenerator()
        self.pool = (0..<(settings.size + 4096)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Measures `publishers` publishers (and the configured subscribers and replay) once.
    ///
    /// - Parameters:
    ///   - publishers: Publisher connections.
    ///   - tag: This measurement's topic token, unique in the invocation (e.g. `r1p16`).
    /// - Returns: The sample, and the first `ERR` reply to a publish, if any.
    /// - Throws: Connection and protocol errors (`ERR` replies to publishes are counted instead).
    func measure(publishers: Int, tag: String) async throws -> (BenchSample, String?) {
        let prefix = "bench.\(self.runID).\(tag)"
        let progress = BenchProgress(label: "\(publishers) pub(s)", subscribers: self.settings.subscribers)
        let subscribers = try await BenchSubscribers.connect(
            count: self.settings.subscribers,
            pattern: "\(prefix).>",
            server: self.server,
            tally: progress.delivered
        )
        let ticker = progress.start()
        defer { ticker.cancel() }
        let started = ContinuousClock.now
        let reports: [WindowedPublishReport]
        do {
            reports = try await self.publish(publishers: publishers, prefix: prefix, progress: progress)
        } catch {
            await subscribers.stop()
            throw error
        }
        let acknowledged = reports.reduce(0) { $0 + $1.acknowledged }
        let stored = acknowledged - reports.reduce(0) { $0 + $1.duplicates }
        var ack = LatencyHistogram()
        for latency in reports.lazy.flatMap(\.latencies) {
            ack.record(latency)
        }
        var sample = BenchSample(
            publishers: publishers,
            subscribers: self.settings.subscribers,
            acknowledged: acknowledged,
            duplicates: reports.reduce(0) { $0 + $1.duplicates },
            errors: reports.reduce(0) { $0 + $1.errors.count },
            publishSeconds: BenchStatistics.seconds(reports.map(\.elapsed).max() ?? .zero),
            ack: ack.summary
        )
        await subscribers.waitFor(each: stored, stall: Self.stallLimit)
        let received = await subscribers.stop()
        sample.deliveries = received.deliveries
        sample.delivery = received.latencies.summary
        sample.deliverySeconds = received.last.map { BenchStatistics.seconds($0 - started) } ?? 0
        ticker.cancel()
        if self.settings.replay {
            (sample.replayed, sample.replaySeconds) = try await self.replay(pattern: "\(prefix).>", expected: stored)
        }
        return (sample, reports.lazy.compactMap(\.errors.first).first.map { "\($0)" })
    }

    /// One subscriber replays what the measurement stored (`from=all` on its topics).
    private func replay(pattern: String, expected: Int) async throws -> (Int, Double) {
        let tally = BenchTally()
        let started = ContinuousClock.now
        let replayer = try await BenchSubscribers.connect(
            count: 1,
            pattern: pattern,
            server: self.server,
            tally: tally,
            options: [("from", "all")]
        )
        await replayer.waitFor(each: expected, stall: Self.stallLimit)
        let received = await replayer.stop()
        return (received.deliveries, received.last.map { BenchStatistics.seconds($0 - started) } ?? 0)
    }

    /// Runs one sliding window per connection, all at once, each with its share of the messages.
    private func publish(
        publishers: Int,
        prefix: String,
        progress: BenchProgress
    ) async throws
        -> [WindowedPublishReport]
    {
        var clients: [LiaisonClient] = []
        do {
            for _ in 0..<publishers {
                clients.append(try await self.server.connect())
            }
            let reports = try await self.run(clients, prefix: prefix, progress: progress)
            for client in clients {
                try await client.quit()
            }
            return reports
        } catch {
            for client in clients {
                await client.close()
            }
            throw error
        }
    }

    private func run(
        _ clients: [LiaisonClient],
        prefix: String,
        progress: BenchProgress
    ) async throws
        -> [WindowedPublishReport]
    {
        let settings = self.settings
        let size = settings.size
        let pool = self.pool
        let span = max(pool.count - size, 1)
        let stamped = settings.subscribers > 0
        let deadline = settings.durationSeconds.map { ContinuousClock.now + .milliseconds(Int64($0 * 1000)) }
        let pacing = PublishPacing(rate: settings.rate, deadline: deadline)
        let published = progress.published
        return try await withThrowingTaskGroup(of: WindowedPublishReport.self) { group in
            for (index, client) in clients.enumerated() {
                let count =
                    deadline != nil
                    ? Int.max
                    : settings.messages / clients.count + (index < settings.messages % clients.count ? 1 : 0)
                let topic = "\(prefix).\(index)"
                group.addTask {
                    try await client.publishWindowed(count: count, window: settings.window, pacing: pacing) { number in
                        published.add()
                        let offset = (number &* 131 &+ index &* 17) % span
                        var headers: [(String, String)] = []
                        if stamped {
                            headers.append(("bt", String(BenchClock.nanoseconds())))
                        }
                        if settings.dedupe {
                            headers.append(("id", "\(topic)-\(number)"))
                        }
                        return (topic, Array(pool[offset..<(offset + size)]), headers)
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
}
