import Foundation
import Postgres
import Synchronization
import TestSupport

/// One fault of a flapping link, applied through a ``FaultProxy``.
enum LinkFault: Sendable, CustomStringConvertible {
    /// Every open connection closed with a FIN.
    case cut
    /// Every open connection aborted with a RST.
    case reset
    /// The open connection cut (FIN) once this many more bytes went down to the client.
    case cutAfter(bytes: Int)
    /// Nothing forwarded for this long, sockets kept open; then everything that piled up.
    case stall(milliseconds: Int)
    /// At most this rate per direction for this long.
    case throttle(bytesPerSecond: Int, milliseconds: Int)
    /// The link down for this long: open connections reset, new ones reset at once.
    case refuse(milliseconds: Int)

    var description: String {
        switch self {
        case .cut: "cut"
        case .reset: "reset"
        case .cutAfter(let bytes): "cut-after \(bytes) B"
        case .stall(let milliseconds): "stall \(milliseconds) ms"
        case .throttle(let rate, let milliseconds): "throttle \(rate) B/s for \(milliseconds) ms"
        case .refuse(let milliseconds): "refuse \(milliseconds) ms"
        }
    }

    /// Whether the fault is meant to take the subscriber's connection down.
    var takesLinkDown: Bool {
        switch self {
        case .cut, .reset, .cutAfter, .refuse: true
        case .stall, .throttle: false
        }
    }

    /// A fault and the pause before it, in milliseconds.
    struct Step: Sendable {
        var pause: Int
        var fault: LinkFault
    }

    /// `rounds` rounds of each kind once, in a random order, each after a random pause.
    ///
    /// Four kinds of the six take the link down: every lost link doubles the ceiling of the
    /// subscriber's reconnect delay (full jitter, from 250 ms) until a connection lasts 10 s, so
    /// more rounds make the expected wait grow fast (up to 30 s a reconnect).
    static func plan(rounds: Int, using random: inout some RandomNumberGenerator) -> [Step] {
        (0..<rounds).flatMap { _ in Self.round(using: &random) }
    }

    private static func round(using random: inout some RandomNumberGenerator) -> [Step] {
        let faults: [LinkFault] = [
            .cut, .reset, .cutAfter(bytes: Int.random(in: 2_000...120_000, using: &random)),
            .stall(milliseconds: Int.random(in: 400...2_000, using: &random)),
            .throttle(
                bytesPerSecond: Int.random(in: 20_000...100_000, using: &random),
                milliseconds: Int.random(in: 500...1_500, using: &random)
            ),
            .refuse(milliseconds: Int.random(in: 300...1_200, using: &random)),
        ]
        return faults.shuffled(using: &random).map { Step(pause: Int.random(in: 100...900, using: &random), fault: $0) }
    }

    /// Applies the fault and waits out its duration.
    ///
    /// - Returns: Whether it took a connection down (a `cut-after` that did not fire within 5 s
    ///   of stream did not).
    func apply(to proxy: FaultProxy) async throws -> Bool {
        switch self {
        case .cut:
            try proxy.cut()
        case .reset:
            try proxy.reset()
        case .cutAfter(let bytes):
            let before = try proxy.stats()
            try proxy.cutAfter(bytes: bytes)
            var fired = false
            for _ in 0..<250 where !fired {
                try await Task.sleep(for: .milliseconds(20))
                let now = try proxy.stats()
                fired = now.connections == 0 || now.accepted > before.accepted
            }
            try proxy.cutAfter(bytes: 0)
            return fired
        case .stall(let milliseconds):
            try proxy.stall()
            try await Task.sleep(for: .milliseconds(milliseconds))
            try proxy.unstall()
        case .throttle(let rate, let milliseconds):
            try proxy.throttle(bytesPerSecond: rate)
            try await Task.sleep(for: .milliseconds(milliseconds))
            try proxy.throttle(bytesPerSecond: 0)
        case .refuse(let milliseconds):
            try proxy.refuse()
            try proxy.reset()
            try await Task.sleep(for: .milliseconds(milliseconds))
            try proxy.accept()
        }
        return self.takesLinkDown
    }
}

/// What `liaisonctl sub` reported on standard error about its link.
struct LinkNotices: Equatable, CustomStringConvertible {
    /// `link lost: <reason>; reconnecting in <n> ms` lines.
    var lost = 0
    /// `reconnect failed: <reason>; reconnecting in <n> ms` lines.
    var failed = 0
    /// `resumed` lines.
    var resumed = 0
    /// The `<n>` of every reconnect notice, in order.
    var delays: [Int] = []
    /// The reasons of the `reconnect failed` lines.
    var failures: [String] = []
    /// Lines that are none of these.
    var other: [String] = []

    /// Counts the notices in `stderr`.
    init(_ stderr: String) {
        for line in stderr.split(separator: "\n") {
            if line == "resumed" {
                self.resumed += 1
                continue
            }
            let isLost = line.hasPrefix("link lost: ")
            guard isLost || line.hasPrefix("reconnect failed: "), let range = line.range(of: "; reconnecting in "),
                line.hasSuffix(" ms"), let delay = Int(line[range.upperBound...].dropLast(3))
            else {
                self.other.append(String(line))
                continue
            }
            if isLost {
                self.lost += 1
            } else {
                self.failed += 1
                self.failures.append(String(line.dropFirst("reconnect failed: ".count)[..<range.lowerBound]))
            }
            self.delays.append(delay)
        }
    }

    /// Whether the last lost link was resumed (the sub says it is subscribed).
    var isUp: Bool { self.resumed == self.lost }

    var description: String {
        "lost \(self.lost), failed \(self.failed) \(self.failures), resumed \(self.resumed), delays \(self.delays) ms"
    }
}

/// Checks, while a durable `liaisonctl sub --format jsonl` runs, that the consumer's position in
/// the database never passes what the sub has printed: every message of the test's topics at or
/// below the stored ack floor must already be on its standard output.
///
/// The floor is read before the output, and the sub prints a message before it confirms or
/// acknowledges it, so a message at or below the floor that is missing from the output was
/// skipped for good. ``run()`` blocks: call it on a thread of its own.
final class FloorWatch: Sendable {
    private struct State {
        var stopped = false
        var samples = 0
        var highestFloor: Int64 = 0
        var violations: [String] = []
    }

    private let url: String
    private let account: String
    private let name: String
    private let topicPrefix: String
    private let output: URL
    private let state = Mutex(State())

    /// Watches consumer `name` of `account`, whose messages are those under `topicPrefix` and
    /// whose sub prints to `output`.
    init(url: String, account: String, name: String, topicPrefix: String, output: URL) {
        self.url = url
        self.account = account
        self.name = name
        self.topicPrefix = topicPrefix
        self.output = output
    }

    /// Samples every 100 ms until ``stop()``.
    ///
    /// - Throws: A database or file error.
    func run() throws {
        let connection = try Connection(self.url)
        defer { connection.close() }
        let file = try FileHandle(forReadingFrom: self.output)
        defer { try? file.close() }
        var printed = Set<Int64>()
        var unread: [UInt8] = []
        var checked: Int64 = 0
        while !self.state.withLock({ $0.stopped }) {
            let row = try connection.query(
                "SELECT acked_seq FROM durable_cursors WHERE account = $1 AND name = $2",
                [self.account.postgresBind, self.name.postgresBind]
            )
            let floor = row.rowCount == 1 ? try row.decode(Int64.self, row: 0, column: 0) : 0
            unread += [UInt8](try file.readToEnd() ?? Data())
            let consumed = Self.scanLines(unread) { printed.insert($0) }
            unread.removeFirst(consumed)
            var missing: [Int64] = []
            if floor > checked {
                let rows = try connection.query(
                    "SELECT seq FROM messages WHERE starts_with(topic, $1) AND seq > $2 AND seq <= $3 ORDER BY seq",
                    [(self.topicPrefix + ".").postgresBind, checked.postgresBind, floor.postgresBind]
                )
                for index in 0..<rows.rowCount {
                    let seq = try rows.decode(Int64.self, row: index, column: 0)
                    if !printed.contains(seq) { missing.append(seq) }
                }
                checked = floor
            }
            self.state.withLock { state in
                state.samples += 1
                state.highestFloor = max(state.highestFloor, floor)
                if !missing.isEmpty {
                    state.violations.append("floor \(floor) with \(missing.count) not printed: \(missing.prefix(10))")
                }
            }
            usleep(100_000)
        }
    }

    /// Ends ``run()`` after its current sample.
    func stop() { self.state.withLock { $0.stopped = true } }

    /// How many samples were taken, the highest floor seen, and each time the floor had passed
    /// messages not printed.
    var result: (samples: Int, highestFloor: Int64, violations: [String]) {
        self.state.withLock { ($0.samples, $0.highestFloor, $0.violations) }
    }

    /// Reports the `"seq":<n>` of every complete JSON line in `bytes`.
    ///
    /// - Returns: How many bytes the complete lines took.
    private static func scanLines(_ bytes: [UInt8], _ found: (Int64) -> Void) -> Int {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return 0 }
            var start = 0
            while start < buffer.count, let lf = memchr(base + start, 10, buffer.count - start) {
                let end = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(lf))
                if let seq = Self.seq(in: UnsafeBufferPointer(rebasing: buffer[start..<end])) { found(seq) }
                start = end + 1
            }
            return start
        }
    }

    /// The `"seq":<n>` of one JSON line, searched from its end: the keys are sorted, so only
    /// `sid`, `size` and `topic` follow it, and base64 payloads and `key=value` headers cannot
    /// hold the key.
    private static func seq(in line: UnsafeBufferPointer<UInt8>) -> Int64? {
        let key = Array("\"seq\":".utf8)
        var index = line.count - key.count
        while index >= 0 {
            if line[index] == key[0], (1..<key.count).allSatisfy({ line[index + $0] == key[$0] }) {
                var value: Int64 = 0
                var digit = index + key.count
                while digit < line.count, (48...57).contains(line[digit]) {
                    value = value * 10 + Int64(line[digit] - 48)
                    digit += 1
                }
                return digit > index + key.count ? value : nil
            }
            index -= 1
        }
        return nil
    }
}
