import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A configuration file key the daemon does not read is refused, naming the key, its line and
/// the file: at start with exit code 64, on `SIGHUP` with the running settings kept.
@Suite(.cliDatabase, .serialized)
struct UnknownConfigurationKeyTests {
    /// A file of the test's own holding `text`.
    private static func file(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("liaisond-keys-\(UUID()).json")
        try Data(text.utf8).write(to: url, options: .atomic)
        return url
    }

    /// Starts `liaisond` with `config` and an unreachable database: it stops at the file or the
    /// database, whichever comes first.
    private static func start(with config: URL) async throws -> CLIResult {
        try await CLI.run(
            [
                "--config", config.path, "--listen", "127.0.0.1:0",
                "--database-url", "postgresql://liaison@127.0.0.1:1/liaison",
            ],
            program: "liaisond"
        )
    }

    @Test func aMisspeltKeyStopsTheDaemonAtStart() async throws {
        let url = try Self.file("{\n  \"limits\": {\n    \"maxConection\": 5\n  }\n}\n")
        defer { try? FileManager.default.removeItem(at: url) }
        let result = try await Self.start(with: url)
        #expect(result.status == 64, "\(result)")
        #expect(
            result.stderr.contains(
                "configuration error (limits.maxConection): unknown key at line 3 of \(url.path) (did you mean limits.maxConnections?)"
            ),
            "\(result)"
        )
    }

    /// A file over 1 MiB is refused before it is parsed (the parse of a huge file held a core for
    /// a minute), with the configuration error code.
    @Test func aFileOverOneMebibyteIsRefusedUnparsed() async throws {
        let url = try Self.file("{\"node\": {\"name\": \"" + String(repeating: "n", count: 1 << 20) + "\"}}")
        defer { try? FileManager.default.removeItem(at: url) }
        let result = try await Self.start(with: url)
        #expect(result.status == 64, "\(result)")
        #expect(
            result.stderr.contains("configuration error (file): \(url.path) is 1048598 bytes, more than the 1048576"),
            "\(result)"
        )
    }

    /// `config/liaisond.json` passes the check: the daemon gets as far as the (unreachable) database.
    @Test func theRepositorysConfigurationFileStillLoads() async throws {
        let result = try await CLI.run(
            [
                "--config", CLI.packageRoot.appendingPathComponent("config/liaisond.json").path,
                "--listen", "127.0.0.1:0", "--database-url", "postgresql://liaison@127.0.0.1:1/liaison",
            ],
            program: "liaisond"
        )
        #expect(result.status == 69, "\(result)")
        #expect(!result.stderr.contains("configuration error"), "\(result)")
    }

    @Test func aReloadWithAnUnknownKeyIsRefusedAndTheOldLimitStays() async throws {
        let token = try #require(try await Daemon.issueTokens(for: ["ohchr"])["ohchr"])
        let url = try Self.file(#"{"limits": {"maxConnectionsPerAccount": 1}}"#)
        defer { try? FileManager.default.removeItem(at: url) }
        let daemon = try await Daemon(databaseURL: try CLIDatabase.currentURL(), arguments: ["--config", url.path])
        defer { Task { await daemon.stop() } }
        let first = try await ProcessClient.onThread { () -> (ProcessClient, String) in
            let client = try ProcessClient(port: daemon.port)
            return (client, try client.command("AUTH ohchr \(token)"))
        }
        #expect(first.1 == "OK AUTH ohchr")

        try Data(#"{"limits": {"maxConnectionsPerAccount": 2, "maxConection": 5}}"#.utf8).write(
            to: url,
            options: .atomic
        )
        kill(daemon.pid, SIGHUP)
        try await Polling.until("configuration reload refused", within: .seconds(10)) {
            daemon.logText.contains("configuration reload refused")
        }
        let refusal = daemon.logText.split(separator: "\n").first { $0.contains("configuration reload refused") }
        #expect(
            refusal?.hasSuffix(
                "configuration error (limits.maxConection): unknown key at line 1 of \(url.path) (did you mean limits.maxConnections?)"
            ) == true,
            "\(daemon.logText)"
        )
        #expect(refusal?.contains("code=64") == true, "\(daemon.logText)")
        #expect(!daemon.logText.contains("configuration reloaded"), "\(daemon.logText)")
        let second = try await ProcessClient.onThread {
            try ProcessClient(port: daemon.port).command("AUTH ohchr \(token)")
        }
        #expect(second.hasPrefix("ERR 429"), "the old limit of 1 should still apply: \(second)")
        withExtendedLifetime(first.0) {}
    }
}
