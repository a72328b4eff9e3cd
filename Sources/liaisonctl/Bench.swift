import ArgumentParser
import Foundation
import LiaisonBench
import Postgres

/// `liaisonctl bench`: the project's benchmark of committed publishes, deliveries and replay,
/// modelled on `nats bench` (github.com/nats-io/natscli), with a raw `COPY` baseline.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure committed publishes, deliveries and replay per second, with latencies.",
        discussion: """
            For each publisher count P, opens P connections that together publish --messages messages \
            (or publish for --duration seconds) of --size random bytes to bench.<run-id>.<sample>.<connection>, \
            each keeping at most --window PUBs unanswered, paced to --rate per publisher if given. Only OK PUB \
            replies count: each one means the message committed. Publish→ack latencies go into an \
            HdrHistogram (p50/p90/p99/p99.9/max, ms).

            --subscribers S first subscribes S more connections to bench.<run-id>.<sample>.>; each counts its \
            MSGs and the publish→delivery latency from a timestamp header (bt=). --replay then subscribes \
            one more connection with from=all and measures how fast the stored messages come back. --dedupe \
            gives every PUB a unique id=.

            In the same run, a COPY of the same number of rows of the same size into a scratch copy of the \
            messages table gives PostgreSQL's own rate (skip it with --no-copy). Every figure is the median \
            over --runs runs. Progress (rate so far) goes to standard error every second.

            --idle-connections N --daemon-pid PID instead opens N authenticated, idle connections, each with \
            one subscription, and reports the growth of the daemon's resident memory per connection.

            --seeks N instead times N subscriptions to bench.> from a random seq of the stored log (SUB \
            written → its first MSG), one after the other on one connection.
            """
    )

    // Not an `@OptionGroup` of `DatabaseOptions`: that one requires a URL, and only the COPY
    // baseline needs the database (`--seeks`, `--idle-connections` and `--no-copy` runs do not).
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "PostgreSQL URL for the COPY baseline (default: $LIAISON_DATABASE_URL); not needed with --no-copy.",
            valueName: "url"
        )
    )
    var databaseURL: String?
    @OptionGroup var server: ServerOptions

    @Option(help: ArgumentHelp("Messages per publisher count and run (all publishers together).", valueName: "n"))
    var messages: Int = 20_000

    @Option(help: ArgumentHelp("Publish for this many seconds instead of --messages.", valueName: "seconds"))
    var duration: Double?

    @Option(help: ArgumentHelp("Payload bytes per message.", valueName: "bytes"))
    var size: Int = 256

    @Option(
        help: ArgumentHelp("Comma-separated publisher (connection) counts.", valueName: "list"),
        transform: { try BenchSettings.parseCounts($0) }
    )
    var publishers: [Int] = [1, 16]

    @Option(help: ArgumentHelp("Subscriber connections, each receiving every message.", valueName: "n"))
    var subscribers: Int = 0

    @Option(help: ArgumentHelp("Target publishes per second per publisher (paced).", valueName: "msgs/s"))
    var rate: Double?

    @Option(
        name: [.customLong("window"), .customLong("pipeline")],
        help: ArgumentHelp("The most unanswered PUBs per connection.", valueName: "n")
    )
    var window: Int = 64

    @Flag(help: "Give every publish a unique id= (idempotency key).")
    var dedupe = false

    @Flag(help: "After publishing, replay the stored messages to one subscriber (from=all).")
    var replay = false

    @Flag(help: "Skip the raw COPY baseline.")
    var noCopy = false

    @Option(help: ArgumentHelp("Repeat everything this many times and report medians.", valueName: "k"))
    var runs: Int = 3

    @Option(help: ArgumentHelp("Instead: hold this many idle connections and measure the daemon.", valueName: "n"))
    var idleConnections: Int?

    @Option(help: ArgumentHelp("The daemon's process id, for --idle-connections.", valueName: "pid"))
    var daemonPid: Int32?

    @Option(help: ArgumentHelp("Instead: time this many from=<seq> seeks into the stored log.", valueName: "n"))
    var seeks: Int?

    @Flag(help: "Print the results as one JSON object instead of a table.")
    var json = false

    var settings: BenchSettings {
        BenchSettings(
            publishers: self.publishers,
            subscribers: self.subscribers,
            messages: self.messages,
            durationSeconds: self.duration,
            size: self.size,
            rate: self.rate,
            window: self.window,
            dedupe: self.dedupe,
            replay: self.replay,
            runs: self.runs
        )
    }

    func validate() throws {
        do {
            try self.settings.validate()
        } catch {
            throw ValidationError(error.description)
        }
        if let idle = self.idleConnections {
            guard idle >= 1 else {
                throw ValidationError("--idle-connections must be at least 1")
            }
            guard self.daemonPid != nil else {
                throw ValidationError("--idle-connections needs --daemon-pid (whose memory to measure)")
            }
        } else if self.daemonPid != nil {
            throw ValidationError("--daemon-pid is only used with --idle-connections")
        }
        if let seeks = self.seeks {
            guard seeks >= 1 else { throw ValidationError("--seeks must be at least 1") }
            guard self.idleConnections == nil else {
                throw ValidationError("--seeks and --idle-connections are separate measurements")
            }
        }
        if !self.noCopy && self.seeks == nil && self.idleConnections == nil && self.database.resolvedURL == nil {
            throw ValidationError(
                "no database URL for the COPY baseline: pass --database-url, set LIAISON_DATABASE_URL or add --no-copy"
            )
        }
    }

    /// The database of the COPY baseline, from `--database-url` or the environment.
    private var database: DatabaseOptions {
        var options = DatabaseOptions()
        options.databaseURL = self.databaseURL
        return options
    }

    func run() async throws {
        if let idle = self.idleConnections, let pid = self.daemonPid {
            let result = try await BenchIdle(server: self.server).measure(connections: idle, daemonPID: pid)
            print(self.json ? JSONLine.encode(result.json) : result.table)
            return
        }
        let runID = String(UInt32.random(in: .min ... .max), radix: 16)
        if let seeks = self.seeks {
            let result = try await BenchSeek(server: self.server).measure(
                count: seeks,
                pattern: "bench.>",
                prefix: "bench.\(runID)"
            )
            print(self.json ? JSONLine.encode(result.json) : result.table)
            return
        }
        let settings = self.settings
        let runner = BenchRunner(settings: settings, server: self.server, runID: runID)
        var report = BenchReport(runID: runID, settings: settings)
        var firstError: String?
        let worker = self.noCopy ? nil : try self.database.makeWorker(name: "liaisonctl-bench")
        defer { worker?.shutdown() }
        for run in 1...settings.runs {
            var samples: [BenchSample] = []
            for publishers in settings.publishers {
                let (sample, error) = try await runner.measure(publishers: publishers, tag: "r\(run)p\(publishers)")
                firstError = firstError ?? error
                samples.append(sample)
                BenchProgress.line("run \(run)/\(settings.runs): " + BenchProgress.describe(sample))
            }
            var copyRate = 0.0
            if let worker {
                let copy = try await CopyBaseline.measure(
                    rows: samples.map(\.acknowledged).max() ?? settings.messages,
                    size: settings.size,
                    pool: runner.pool,
                    topic: "bench.\(runID).copy",
                    account: try self.server.credentials.account,
                    worker: worker
                )
                copyRate = copy.rowsPerSecond
                report.copyRates.append(copyRate)
                BenchProgress.line("run \(run)/\(settings.runs): COPY: \(Int(copyRate)) rows/s")
            }
            for var sample in samples {
                sample.copyRowsPerSecond = copyRate
                report.samples[sample.publishers, default: []].append(sample)
            }
        }
        if self.json {
            print(JSONLine.encode(report.json))
        } else {
            var table = TextTable(report.header)
            for row in report.rows {
                table.append(row)
            }
            print(report.title + "\n" + table.rendered)
        }
        if let firstError {
            throw CLIFailure("some publishes were refused; the first reply was \(firstError)")
        }
    }
}
