import Testing

/// The `metrics.*` settings of docs/CONFIGURATION.md: a bad value stops the daemon at start,
/// naming the key (checked before the database is reached).
struct MetricsConfigurationTests {
    @Test(arguments: [
        ("LIAISON_METRICS_LISTEN", "9464", "metrics.listen"),
        ("LIAISON_METRICS_LISTEN", ":9464", "metrics.listen"),
        ("LIAISON_METRICS_LISTEN", "127.0.0.1:70000", "metrics.listen"),
        ("LIAISON_METRICS_HEARTBEAT_MS", "0", "metrics.heartbeatMs"),
        ("LIAISON_METRICS_LAG_INTERVAL_MS", "fast", "metrics.lagIntervalMs"),
        ("LIAISON_METRICS_LAG_CONSUMERS", "1001", "metrics.lagConsumers"),
    ])
    func aBadSettingStopsTheDaemon(variable: String, value: String, key: String) async throws {
        let result = try await CLI.run(
            ["--listen", "127.0.0.1:0", "--database-url", "postgresql://liaison@127.0.0.1:1/liaison"],
            environment: [variable: value],
            program: "liaisond"
        )
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("configuration error (\(key))"), "\(result)")
    }
}

/// A metrics port already in use stops the daemon promptly, naming the endpoint's address and
/// setting (not the client listener's).
@Suite(.cliDatabase)
struct MetricsPortInUseTests {
    @Test(.timeLimit(.minutes(1)))
    func aMetricsPortInUseStopsTheDaemonNamingTheSetting() async throws {
        let url = try CLIDatabase.currentURL()
        // The test database's own port: certainly in use.
        let port = try #require(url.split(separator: ":").last?.split(separator: "/").first.flatMap { Int($0) })
        let result = try await CLI.run(
            ["--listen", "127.0.0.1:0", "--database-url", url],
            environment: ["LIAISON_METRICS_LISTEN": "127.0.0.1:\(port)"],
            program: "liaisond"
        )
        #expect(result.status != 0, "\(result)")
        #expect(
            result.stderr.contains(
                "cannot open the metrics endpoint on 127.0.0.1:\(port): address already in use — set metrics.listen"
            ),
            "\(result)"
        )
    }
}
