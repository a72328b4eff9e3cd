import Foundation
import Testing

/// A `liaisond` child process on a free port, for tests that run `pub` and `sub` against it.
///
/// Crash tests kill it with `SIGKILL` (``crash()``) and start it again on the same database and
/// port (``restarted()``); memory tests read its resident set size (``residentBytes()``).
final class Daemon: Sendable {
    /// The port it listens on, read from its "listening" log line.
    let port: Int
    /// The database it serves.
    let databaseURL: String
    /// The `LIAISON_*` settings it was started with (e.g. `LIAISON_LIMITS_HIGH_WATER_MARK`).
    let settings: [String: String]
    /// Flags it was started with besides `--listen`, `--database-url` and `--node-name` (`--config FILE`).
    let arguments: [String]
    private let process: Process
    private let log: URL

    /// Starts `liaisond` on 127.0.0.1 against `databaseURL` and waits until it listens.
    ///
    /// - Parameters:
    ///   - databaseURL: A migrated database.
    ///   - settings: `LIAISON_*` environment variables for the daemon (the test's own are never passed on).
    ///   - port: The TCP port; 0 (the default) picks a free one.
    ///   - arguments: More flags, such as `--config FILE`.
    /// - Throws: A test failure with the daemon's log when it does not listen within 20 s.
    init(
        databaseURL: String,
        settings: [String: String] = [:],
        port: Int = 0,
        arguments: [String] = []
    ) async throws {
        let process = Process()
        process.executableURL = try CLI.executable("liaisond")
        process.arguments =
            [
                "--listen", "127.0.0.1:\(port)", "--database-url", databaseURL, "--node-name", "clitest",
            ] + arguments
        process.environment = CLI.baseEnvironment().merging(settings) { _, new in new }
        process.currentDirectoryURL = FileManager.default.temporaryDirectory
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("liaisond-clitest-\(UUID()).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try? handle.close()

        var listening: Int?
        for _ in 0..<200 where listening == nil && process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
            listening = Self.listeningPort(in: String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self))
        }
        guard let listening else {
            process.terminate()
            process.waitUntilExit()
            let text = String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self)
            try? FileManager.default.removeItem(at: log)
            throw DaemonFailure(description: "liaisond did not start listening; its log:\n\(text)")
        }
        self.port = listening
        self.databaseURL = databaseURL
        self.settings = settings
        self.arguments = arguments
        self.process = process
        self.log = log
    }

    deinit {
        // A test that throws halfway must not leave a daemon running behind it.
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
    }

    /// The daemon's process id, for `/proc/<pid>` and signals.
    var pid: Int32 { self.process.processIdentifier }

    /// Whether the process is still running.
    var isRunning: Bool { self.process.isRunning }

    /// Everything the daemon has logged so far (stdout and stderr together).
    var logText: String {
        String(decoding: (try? Data(contentsOf: self.log)) ?? Data(), as: UTF8.self)
    }

    /// Sends SIGTERM and waits for the daemon to exit.
    func stop() async {
        self.process.terminate()
        for _ in 0..<100 where self.process.isRunning {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
        }
        try? FileManager.default.removeItem(at: self.log)
    }

    /// Kills the daemon with `SIGKILL` (no graceful shutdown, no flush: a crash) and waits until
    /// it is gone, so its port is free again.
    func crash() async {
        kill(self.process.processIdentifier, SIGKILL)
        for _ in 0..<200 where self.process.isRunning {
            try? await Task.sleep(for: .milliseconds(10))
        }
        try? FileManager.default.removeItem(at: self.log)
    }

    /// Starts a new daemon on the same database, port and settings (after ``crash()`` or ``stop()``).
    ///
    /// - Parameter changes: `LIAISON_*` settings to set or change for the new daemon.
    /// - Returns: The new, listening daemon.
    /// - Throws: A test failure with its log when it does not listen within 20 s.
    func restarted(changing changes: [String: String] = [:]) async throws -> Daemon {
        try await Daemon(
            databaseURL: self.databaseURL,
            settings: self.settings.merging(changes) { _, new in new },
            port: self.port,
            arguments: self.arguments
        )
    }

    /// The daemon's resident set size in bytes (`VmRSS` of `/proc/<pid>/status`), or nil when the
    /// process is gone or the platform has no `/proc`.
    func residentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(self.pid)/status", encoding: .utf8) else {
            return nil
        }
        // The line reads `VmRSS:\t   123456 kB`.
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.count >= 2 ? Int(fields[1]).map { $0 * 1024 } : nil
        }
        return nil
    }

    /// Imports the network's accounts (`config/network.json`) into the current suite's database
    /// and issues one token for each of `accounts`.
    ///
    /// - Returns: The tokens, by account name.
    /// - Throws: A test failure with `liaisonctl`'s output when it fails.
    static func issueTokens(for accounts: [String]) async throws -> [String: String] {
        let imported = try await CLIDatabase.run([
            "account", "import", CLI.packageRoot.appendingPathComponent("config/network.json").path,
        ])
        try #require(imported.status == 0, "\(imported)")
        var tokens: [String: String] = [:]
        for account in accounts {
            let issued = try await CLIDatabase.run(["token", "issue", account])
            let token = try #require(issued.lines.first, "\(issued)")
            tokens[account] = token
        }
        return tokens
    }

    /// The port of a line like `address=[IPv4]127.0.0.1/127.0.0.1:43873 [LiaisonServer] listening`.
    private static func listeningPort(in log: String) -> Int? {
        for line in log.split(separator: "\n") where line.hasSuffix("listening") {
            guard let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }),
                let colon = address.lastIndex(of: ":")
            else {
                continue
            }
            return Int(address[address.index(after: colon)...])
        }
        return nil
    }
}

/// The daemon would not start.
struct DaemonFailure: Error, CustomStringConvertible {
    var description: String
}
