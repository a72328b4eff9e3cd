import Testing

/// The `retention.*` settings of docs/CONFIGURATION.md: a value out of its range stops the daemon
/// at start, naming the key (checked before the database is reached).
struct RetentionConfigurationTests {
    @Test(arguments: [
        ("LIAISON_RETENTION_INTERVAL_SECONDS", "0", "retention.intervalSeconds"),
        ("LIAISON_RETENTION_INTERVAL_SECONDS", "604801", "retention.intervalSeconds"),
        ("LIAISON_RETENTION_BATCH_SIZE", "0", "retention.batchSize"),
        ("LIAISON_RETENTION_ENABLED", "maybe", "retention.enabled"),
    ])
    func anOutOfRangeSettingStopsTheDaemon(variable: String, value: String, key: String) async throws {
        let result = try await CLI.run(
            ["--listen", "127.0.0.1:0", "--database-url", "postgresql://liaison@127.0.0.1:1/liaison"],
            environment: [variable: value],
            program: "liaisond"
        )
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("configuration error (\(key))"), "\(result)")
    }
}
