import Foundation
import LiaisonStore
import Postgres
import Testing

/// `scripts/demo-env.sh`, which writes `var/demo-tokens.env` for `deploy/run-local.sh`: a later
/// run on another PostgreSQL port must point the file at that port and keep the tokens.
@Suite(.cliDatabase, .serialized)
struct DemoEnvTests {
    @Test func aSecondRunOnAnotherPortRewritesTheURLAndKeepsTheTokens() async throws {
        let imported = try await CLIDatabase.run([
            "account", "import", CLI.packageRoot.appendingPathComponent("config/network.json").path,
        ])
        try #require(imported.status == 0, "\(imported)")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("demo-env-test-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("demo-tokens.env").path
        let liaisonctl = try CLI.executable("liaisonctl").path
        let firstURL = try CLIDatabase.currentURL()

        let first = try Self.shell(["scripts/demo-env.sh", file, firstURL, liaisonctl])
        #expect(first.status == 0, "\(first)")
        let firstRun = try Self.shell([
            "-c", "source \(file) && echo \"$LIAISON_DATABASE_URL\" && echo \"$TOKEN_OHCHR\"",
        ])
        #expect(firstRun.lines.first == firstURL, "\(firstRun)")
        let token = try #require(firstRun.lines.last)
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        #expect(try Credentials().authenticate(account: "ohchr", token: token, on: connection) != nil)
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? Int) == 0o600, "the file holds tokens")

        // The same cluster on another port: nothing listens there now, so a token issued anew
        // would fail the script; the kept ones need no database.
        let secondURL = "postgresql://liaison@127.0.0.1:1/liaison"
        let second = try Self.shell(["scripts/demo-env.sh", file, secondURL, liaisonctl])
        #expect(second.status == 0, "\(second)")
        let secondRun = try Self.shell([
            "-c", "source \(file) && echo \"$LIAISON_DATABASE_URL\" && echo \"$TOKEN_OHCHR\"",
        ])
        #expect(secondRun.lines == [secondURL, token], "\(secondRun)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(!text.contains(firstURL), "the old URL is gone:\n\(text)")
        #expect(text.components(separatedBy: "export TOKEN_").count - 1 == 5, "\(text)")
    }

    /// Runs `bash` with `arguments` in the package root and waits for it.
    private static func shell(_ arguments: [String]) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = arguments
        process.environment = CLI.baseEnvironment()
        process.currentDirectoryURL = CLI.packageRoot
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIResult(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }
}
