import Foundation
import Testing

/// `--token-file` and `LIAISON_TOKEN_FILE`: the token read from a file, so that it never shows in
/// the process list as `--token` does.
@Suite(.cliDatabase, .serialized)
struct TokenFileTests {
    @Test func pubAuthenticatesWithATokenFileFromTheOptionOrTheEnvironment() async throws {
        let imported = try await CLIDatabase.run([
            "account", "import", CLI.packageRoot.appendingPathComponent("config/network.json").path,
        ])
        try #require(imported.status == 0, "\(imported)")
        let token = try #require(try await CLIDatabase.run(["token", "issue", "ohchr"]).lines.first)
        let file = try Self.write("  \(token)\n\n")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let daemon = try await Daemon(databaseURL: try CLIDatabase.currentURL())
        let server = ["LIAISON_SERVER": "127.0.0.1:\(daemon.port)", "LIAISON_ACCOUNT": "ohchr"]

        let byOption = try await CLI.run(["pub", "hq.ohchr.note", "one", "--token-file", file], environment: server)
        let byEnvironment = try await CLI.run(
            ["pub", "hq.ohchr.note", "two"],
            environment: server.merging(["LIAISON_TOKEN_FILE": file]) { _, new in new }
        )
        let wrong = try Self.write("lia_not-the-token\n")
        defer { try? FileManager.default.removeItem(atPath: wrong) }
        let refused = try await CLI.run(["pub", "hq.ohchr.note", "three", "--token-file", wrong], environment: server)
        await daemon.stop()

        #expect(byOption.status == 0, "\(byOption)")
        #expect(byOption.lines.first?.hasPrefix("seq ") == true, "\(byOption)")
        #expect(byEnvironment.status == 0, "\(byEnvironment)")
        #expect(byEnvironment.lines.first?.hasPrefix("seq ") == true, "\(byEnvironment)")
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.hasPrefix("liaisonctl: error: server replied ERR 401"), "\(refused)")
    }

    @Test func anUnreadableOrEmptyTokenFileIsNamed() async throws {
        let missing = "/nonexistent/liaison-token"
        let unreadable = try await CLI.run(
            ["pub", "hq.ohchr.note", "x", "--server", "127.0.0.1:1", "--account", "ohchr", "--token-file", missing]
        )
        #expect(unreadable.status == 1, "\(unreadable)")
        #expect(
            unreadable.stderr
                == "liaisonctl: error: cannot read the token file \(missing): no such file or directory\n",
            "\(unreadable)"
        )

        let empty = try Self.write(" \n")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let blank = try await CLI.run(
            ["pub", "hq.ohchr.note", "x", "--server", "127.0.0.1:1", "--account", "ohchr"],
            environment: ["LIAISON_TOKEN_FILE": empty]
        )
        #expect(blank.status == 1, "\(blank)")
        #expect(blank.stderr == "liaisonctl: error: the token file \(empty) is empty\n", "\(blank)")
    }

    /// Writes `text` to a new file readable by its owner only.
    private static func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID())").path
        try #require(
            FileManager.default.createFile(
                atPath: path,
                contents: Data(text.utf8),
                attributes: [.posixPermissions: 0o600]
            )
        )
        return path
    }
}
