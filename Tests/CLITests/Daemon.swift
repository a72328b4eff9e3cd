import Foundation
import Testing

/// A `liaisond` child process on a free port, for tests that run `pub` and `sub` against it.
final class Daemon: Sendable {
    /// The port it listens on, read from its "listening" log line.
    let port: Int
    private let process: Process
    private let log: URL

    /// Starts `liaisond` on 127.0.0.1 port 0 against `databaseURL` and waits until it listens.
    ///
    /// - Throws: A test failure with the daemon's log when it does not listen within 20 s.
    init(databaseURL: String) async throws {
        let process = Process()
        process.executableURL = try CLI.executable("liaisond")
        process.arguments = ["--listen", "127.0.0.1:0", "--database-url", databaseURL, "--node-name", "clitest"]
        process.environment = CLI.baseEnvironment()
        process.currentDirectoryURL = FileManager.default.temporaryDirectory
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("liaisond-clitest-\(UUID()).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try? handle.close()

        var port: Int?
        for _ in 0..<200 where port == nil && process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
            port = Self.listeningPort(in: String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self))
        }
        guard let port else {
            process.terminate()
            process.waitUntilExit()
            let text = String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self)
            try? FileManager.default.removeItem(at: log)
            throw DaemonFailure(description: "liaisond did not start listening; its log:\n\(text)")
        }
        self.port = port
        self.process = process
        self.log = log
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
