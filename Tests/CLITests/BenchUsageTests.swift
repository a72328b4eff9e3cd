import Testing

/// `liaisonctl bench` refuses bad options before connecting, naming the option (exit 64).
@Suite struct BenchUsageTests {
    @Test(arguments: [
        (["--rate", "0"], "--rate must be a number of messages per second above 0, got 0.0"),
        (["--window", "0"], "--window (--pipeline) must be at least 1"),
        (["--pipeline", "0"], "--window (--pipeline) must be at least 1"),
        (["--publishers", "1,x"], "--publishers must be a comma-separated list of counts >= 1, got '1,x'"),
        (["--publishers", "16", "--messages", "8"], "--publishers 16 is more than --messages 8"),
        (["--duration=-1"], "--duration must be a number of seconds above 0, got -1.0"),
        (["--subscribers=-2"], "--subscribers must not be negative"),
        (["--idle-connections", "10"], "--idle-connections needs --daemon-pid (whose memory to measure)"),
        (["--daemon-pid", "1"], "--daemon-pid is only used with --idle-connections"),
    ])
    func badOptionsAreRefused(options: [String], message: String) async throws {
        let result = try await CLI.run(
            ["bench", "--account", "a", "--token", "t", "--database-url", "postgresql://liaison@127.0.0.1:1/none"]
                + options
        )
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.hasPrefix("liaisonctl: error: "), "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
    }

    @Test func aRunWithTheCopyBaselineNeedsADatabaseURL() async throws {
        let result = try await CLI.run(["bench", "--account", "a", "--token", "t", "--publishers", "1"])
        #expect(result.status == 64, "\(result)")
        #expect(
            result.stderr.contains(
                "no database URL for the COPY baseline: pass --database-url, set LIAISON_DATABASE_URL or add --no-copy"
            ),
            "\(result)"
        )
    }
}
