/// What one `liaisonctl bench` invocation measures, checked before anything connects.
///
/// Modelled on `nats bench` (github.com/nats-io/natscli, `cli/bench_command.go`): publishers and
/// subscribers, message size, a count or a duration, a per-publisher target rate, a window of
/// unanswered publishes per connection, optional idempotency keys and a replay of what was
/// published.
public struct BenchSettings: Sendable, Equatable {
    /// Publisher (connection) counts, each measured in turn; every one ≥ 1.
    public var publishers: [Int]
    /// Subscriber connections per measurement, each subscribed to everything it publishes; ≥ 0.
    public var subscribers: Int
    /// Messages per measurement (all publishers together); ≥ 1. Ignored when `durationSeconds` is set.
    public var messages: Int
    /// Publish for this many seconds instead of a count, or `nil`.
    public var durationSeconds: Double?
    /// Payload bytes per message; ≥ 0.
    public var size: Int
    /// Target publishes per second per publisher (paced), or `nil` for as fast as the window allows.
    public var rate: Double?
    /// The most unanswered publishes per connection; ≥ 1.
    public var window: Int
    /// Whether every publish carries a unique `id=` (idempotency key).
    public var dedupe: Bool
    /// Whether each measurement ends with one subscriber replaying what it published (`from=all`).
    public var replay: Bool
    /// Runs to take the median of; ≥ 1.
    public var runs: Int

    /// Creates settings; see the properties for the allowed values.
    public init(
        publishers: [Int] = [1, 16],
        subscribers: Int = 0,
        messages: Int = 20_000,
        durationSeconds: Double? = nil,
        size: Int = 256,
        rate: Double? = nil,
        window: Int = 64,
        dedupe: Bool = false,
        replay: Bool = false,
        runs: Int = 3
    ) {
        self.publishers = publishers
        self.subscribers = subscribers
        self.messages = messages
        self.durationSeconds = durationSeconds
        self.size = size
        self.rate = rate
        self.window = window
        self.dedupe = dedupe
        self.replay = replay
        self.runs = runs
    }

    /// A comma-separated list of publisher counts, e.g. `1,16`.
    ///
    /// - Throws: ``BenchSettingsError`` naming the text when a part is not a whole number ≥ 1.
    public static func parseCounts(_ text: String) throws(BenchSettingsError) -> [Int] {
        let counts = text.split(separator: ",", omittingEmptySubsequences: false).map {
            Int(String($0.filter { $0 != " " }))
        }
        guard !counts.isEmpty, counts.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw BenchSettingsError("--publishers must be a comma-separated list of counts >= 1, got '\(text)'")
        }
        return counts.compactMap { $0 }
    }

    /// Checks every setting and their combinations.
    ///
    /// - Throws: ``BenchSettingsError`` with the first problem, naming the option as typed.
    public func validate() throws(BenchSettingsError) {
        guard !self.publishers.isEmpty else {
            throw BenchSettingsError("--publishers must name at least one count")
        }
        guard self.messages >= 1 else {
            throw BenchSettingsError("--messages must be at least 1")
        }
        guard self.size >= 0 else {
            throw BenchSettingsError("--size must not be negative")
        }
        guard self.window >= 1 else {
            throw BenchSettingsError("--window (--pipeline) must be at least 1")
        }
        guard self.runs >= 1 else {
            throw BenchSettingsError("--runs must be at least 1")
        }
        guard self.subscribers >= 0 else {
            throw BenchSettingsError("--subscribers must not be negative")
        }
        if let rate = self.rate, !(rate > 0 && rate.isFinite) {
            throw BenchSettingsError("--rate must be a number of messages per second above 0, got \(rate)")
        }
        if let seconds = self.durationSeconds {
            guard seconds > 0, seconds.isFinite else {
                throw BenchSettingsError("--duration must be a number of seconds above 0, got \(seconds)")
            }
        } else if let tooMany = self.publishers.first(where: { $0 > self.messages }) {
            throw BenchSettingsError("--publishers \(tooMany) is more than --messages \(self.messages)")
        }
    }
}

/// A `bench` setting that cannot be used, with the text shown to the user.
public struct BenchSettingsError: Error, Equatable, CustomStringConvertible {
    /// What is wrong, naming the option, e.g. `--rate must be … above 0, got -5.0`.
    public var description: String

    /// Creates an error with its text.
    public init(_ description: String) {
        self.description = description
    }
}
