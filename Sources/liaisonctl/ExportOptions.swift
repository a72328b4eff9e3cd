import ArgumentParser
import Foundation
import Postgres

/// `--format` and `--output` of the exports (`messages export`, `audit events --export`).
struct ExportOptions: ParsableArguments {
    /// The export formats.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        /// One JSON object per line, the objects of the listing's `--json`/`jsonl` output.
        case jsonl
        /// RFC 4180 CSV with a header row of the same field names.
        case csv
    }

    @Option(
        help:
            "jsonl (one JSON object per line, as the listing's JSON; the default) or csv (RFC 4180, with a header row)."
    )
    var format: Format?

    @Option(
        help: ArgumentHelp("Write to this file (created or truncated) instead of standard output.", valueName: "file")
    )
    var output: String?

    /// Whether `--format` or `--output` was given (the listings refuse them without `--export`).
    var isGiven: Bool { self.format != nil || self.output != nil }

    /// The seconds between progress lines on standard error: 2, or `LIAISON_EXPORT_PROGRESS_MS`
    /// milliseconds (for tests and for people who want more or fewer).
    static var progressInterval: Double {
        if let text = ProcessInfo.processInfo.environment["LIAISON_EXPORT_PROGRESS_MS"], let ms = Int(text), ms >= 0 {
            return Double(ms) / 1_000
        }
        return 2
    }

    /// Runs one export on a database worker: opens the output, lets `stream` feed it, flushes it.
    ///
    /// - Parameters:
    ///   - database: The connection options.
    ///   - columns: The field names, in CSV column order.
    ///   - noun: What is counted in progress lines, e.g. `messages`.
    ///   - positionName: What the position in progress lines is, e.g. `seq`.
    ///   - stream: Reads the rows on the connection and writes them to the sink.
    /// - Throws: ``CLIFailure`` for the output or an unreachable database; the store's errors.
    func run(
        database: DatabaseOptions,
        columns: [String],
        noun: String,
        positionName: String,
        _ stream: @escaping @Sendable (Connection, ExportSink) throws -> Void
    ) async throws {
        let options = self
        try await database.run { connection in
            let sink = try ExportSink(options: options, columns: columns, noun: noun, positionName: positionName)
            try stream(connection, sink)
            try sink.finish()
        }
    }
}
