import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an export's records go: JSON Lines or CSV, to standard output or a file, through a
/// 64 KiB buffer (memory does not grow with the export), with a progress line on standard error
/// every ``ExportOptions/progressInterval`` seconds.
///
/// A reader that goes away (`| head -1`: EPIPE) ends the export quietly: ``write(_:)`` returns
/// `false` and the command exits 0. Used on one thread at a time (the database worker's).
final class ExportSink {
    private let format: ExportOptions.Format
    private let columns: [String]
    private let noun: String
    private let positionName: String
    private let fd: Int32
    private let closeAtEnd: Bool
    private let path: String
    private var buffer: [UInt8] = []
    private let started = Date()
    private var lastProgress = Date()
    private var printedProgress = false
    private let interval: Double
    /// Records written so far.
    private(set) var count = 0
    /// Whether the reader went away (EPIPE).
    private(set) var readerGone = false

    /// Opens the output and writes the CSV header row.
    ///
    /// - Parameters:
    ///   - options: `--format` and `--output`.
    ///   - columns: The field names, in CSV column order (the JSON objects' keys).
    ///   - noun: What is counted in progress lines, e.g. `messages`.
    ///   - positionName: What the position is, e.g. `seq`.
    /// - Throws: ``CLIFailure`` when `--output` cannot be created.
    init(options: ExportOptions, columns: [String], noun: String, positionName: String) throws {
        self.format = options.format ?? .jsonl
        self.columns = columns
        self.noun = noun
        self.positionName = positionName
        self.interval = ExportOptions.progressInterval
        // A closed pipe must be an error to handle (EPIPE), not a signal that kills us.
        signal(SIGPIPE, SIG_IGN)
        if let output = options.output {
            let fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw CLIFailure("cannot create \(output): \(String(cString: strerror(errno)))")
            }
            self.fd = fd
            self.closeAtEnd = true
            self.path = output
        } else {
            self.fd = STDOUT_FILENO
            self.closeAtEnd = false
            self.path = "standard output"
        }
        self.buffer.reserveCapacity(1 << 16)
        if self.format == .csv {
            try self.append(CSV.record(columns))
        }
    }

    deinit {
        if self.closeAtEnd { close(self.fd) }
    }

    /// Writes one record (the listing's JSON object).
    ///
    /// - Returns: `false` when the reader went away: stop exporting.
    /// - Throws: ``CLIFailure`` when the output cannot be written.
    func write(_ object: [String: Any]) throws -> Bool {
        guard !self.readerGone else { return false }
        switch self.format {
        case .jsonl:
            try self.append(JSONLine.encode(object) + "\n")
        case .csv:
            try self.append(CSV.record(self.columns.map { Self.text(object[$0]) }))
        }
        self.count += 1
        return !self.readerGone
    }

    /// Writes one page of records, then a progress line if the interval has passed.
    ///
    /// - Parameters:
    ///   - page: The records.
    ///   - object: A record's JSON object (the listing's).
    ///   - position: A record's seq or id, for the progress line.
    /// - Returns: `false` when the reader went away: stop exporting.
    /// - Throws: ``CLIFailure`` when the output cannot be written.
    func write<Record>(
        page: [Record],
        object: (Record) -> [String: Any],
        position: (Record) -> Int64
    ) throws -> Bool {
        for record in page where try !self.write(object(record)) {
            return false
        }
        if let last = page.last { self.pageDone(position: position(last)) }
        return true
    }

    private func pageDone(position: Int64) {
        let now = Date()
        guard now.timeIntervalSince(self.lastProgress) >= self.interval else { return }
        self.lastProgress = now
        self.printedProgress = true
        let rate = Int(Double(self.count) / max(now.timeIntervalSince(self.started), 0.001))
        Self.stderr("exported \(self.count) \(self.noun), at \(self.positionName) \(position), \(rate) \(self.noun)/s")
    }

    /// Flushes what is buffered; after a long export (one that printed progress) prints the total.
    ///
    /// - Throws: ``CLIFailure`` when the output cannot be written.
    func finish() throws {
        try self.flush()
        if self.closeAtEnd, fsync(self.fd) != 0, errno != EINVAL {
            throw CLIFailure("cannot write \(self.path): \(String(cString: strerror(errno)))")
        }
        if self.printedProgress {
            let seconds = Date().timeIntervalSince(self.started)
            Self.stderr("exported \(self.count) \(self.noun) in \(String(format: "%.1f", seconds)) s")
        }
    }

    /// A JSON value as a CSV field: strings as they are, numbers in decimal, null as empty,
    /// objects (headers) as their JSON text.
    static func text(_ value: Any?) -> String {
        switch value {
        case let text as String: return text
        case let number as Int: return String(number)
        case let number as Int64: return String(number)
        case let object as [String: Any]: return JSONLine.encode(object)
        default: return ""
        }
    }

    private func append(_ text: String) throws {
        self.buffer.append(contentsOf: text.utf8)
        if self.buffer.count >= 1 << 16 { try self.flush() }
    }

    private func flush() throws {
        var offset = 0
        defer { self.buffer.removeAll(keepingCapacity: true) }
        while offset < self.buffer.count, !self.readerGone {
            let written = self.buffer.withUnsafeBytes { bytes in
                Glibc.write(self.fd, bytes.baseAddress! + offset, bytes.count - offset)
            }
            if written >= 0 {
                offset += written
            } else if errno == EINTR {
                continue
            } else if errno == EPIPE {
                self.readerGone = true
            } else {
                throw CLIFailure("cannot write \(self.path): \(String(cString: strerror(errno)))")
            }
        }
    }

    private static func stderr(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
