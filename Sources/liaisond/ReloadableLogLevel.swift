import Logging
import Synchronization

/// The daemon's log level, shared by every logger and changed by a configuration reload.
final class LogLevelControl: Sendable {
    private let current: Mutex<Logger.Level>

    /// - Parameter level: The level at start (`log.level`).
    init(_ level: Logger.Level) {
        self.current = Mutex(level)
    }

    /// The level every logger logs at now.
    var level: Logger.Level {
        get { self.current.withLock { $0 } }
        set { self.current.withLock { $0 = newValue } }
    }
}

/// A `StreamLogHandler` (stderr) whose level is the daemon's ``LogLevelControl``, so a reload
/// changes what every logger already made logs. A logger that sets its own level keeps that one,
/// as swift-log's `LogHandler` contract asks.
struct ReloadableLevelLogHandler: LogHandler {
    private var stream: StreamLogHandler
    private let control: LogLevelControl
    private var ownLevel: Logger.Level?

    /// - Parameters:
    ///   - label: The logger's label.
    ///   - control: The shared level.
    init(label: String, control: LogLevelControl) {
        self.stream = StreamLogHandler.standardError(label: label)
        self.control = control
    }

    var logLevel: Logger.Level {
        get { self.ownLevel ?? self.control.level }
        set { self.ownLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { self.stream.metadata }
        set { self.stream.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { self.stream.metadataProvider }
        set { self.stream.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.stream[metadataKey: key] }
        set { self.stream[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        self.stream.log(event: event)
    }
}
