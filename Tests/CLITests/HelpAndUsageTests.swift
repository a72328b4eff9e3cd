import Testing

/// Help of every command, and usage errors that need no database.
@Suite struct HelpAndUsageTests {
    @Test(arguments: [
        [], ["migrate"], ["account"], ["account", "add"], ["account", "list"], ["account", "disable"],
        ["account", "enable"], ["account", "import"], ["token"], ["token", "issue"], ["token", "revoke"],
        ["token", "list"], ["messages"], ["messages", "list"], ["pub"], ["sub"], ["bench"],
    ])
    func helpExitsZero(command: [String]) async throws {
        let result = try await CLI.run(command + ["--help"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("USAGE: liaisonctl"), "\(result)")
        #expect(result.stderr.isEmpty)
    }

    @Test func versionExitsZero() async throws {
        let result = try await CLI.run(["--version"])
        #expect(result.status == 0)
        #expect(result.lines == ["0.1.0"])
    }

    @Test(arguments: [
        (["account", "list"], "no database URL: pass --database-url or set LIAISON_DATABASE_URL"),
        (["migrate"], "no database URL: pass --database-url or set LIAISON_DATABASE_URL"),
        (["pub", "hq.a", "text"], "no account: pass --account or set LIAISON_ACCOUNT"),
        (
            ["pub", "hq.a", "text", "--account", "ohchr"],
            "no token: set LIAISON_TOKEN, or pass --token-file (or set LIAISON_TOKEN_FILE)"
        ),
        (
            ["pub", "hq.a", "text", "--account", "ohchr", "--token", "t", "--token-file", "/tmp/t"],
            "pass the token with --token or --token-file, not both"
        ),
        (
            ["sub", "hq.>", "--account", "a", "--token", "t", "--server", "nohost"],
            "--server must be HOST:PORT, got 'nohost'"
        ),
        (["frobnicate"], "Unexpected argument 'frobnicate'"),
        (["status", "--metrics-url", "http://[::1"], "--metrics-url: 'http://[::1' is not http://HOST:PORT"),
        (["status", "--metrics-url", "http://::1:9464"], "--metrics-url: 'http://::1:9464' is not http://HOST:PORT"),
        (["status", "--metrics-url", "http://127.0.0.1"], "--metrics-url: 'http://127.0.0.1' is not http://HOST:PORT"),
    ])
    func usageErrorsAreClear(arguments: [String], message: String) async throws {
        let result = try await CLI.run(arguments)
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.hasPrefix("liaisonctl: error: \(message)"), "\(result)")
    }

    @Test func aBadServerAddressFromTheEnvironmentIsNamedAsSuch() async throws {
        let result = try await CLI.run(
            ["sub", "hq.>", "--account", "a", "--token", "t"],
            environment: ["LIAISON_SERVER": "nohost"]
        )
        #expect(result.status == 64, "\(result)")
        #expect(
            result.stderr.hasPrefix("liaisonctl: error: LIAISON_SERVER must be HOST:PORT, got 'nohost'"),
            "\(result)"
        )
    }

    @Test func unreachableDatabaseExits1() async throws {
        let result = try await CLI.run(["account", "list", "--database-url", "postgresql://liaison@127.0.0.1:1/none"])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.hasPrefix("liaisonctl: error: "), "\(result)")
    }
}
