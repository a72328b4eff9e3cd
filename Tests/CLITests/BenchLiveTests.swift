import Foundation
import Testing

/// `liaisonctl bench`'s standalone measurements against a real `liaisond`: `--seeks` times
/// `from=<seq>` subscriptions into the stored log, `--idle-connections` holds authenticated
/// connections with one subscription each. The publish, fan-out and replay measurements are
/// run by `scripts/bench-suite.sh` (docs/BENCHMARKS.md), not by tests.
@Suite(.cliDatabase, .serialized)
struct BenchLiveTests {
    /// Runs `body` with a daemon and the environment `bench` needs, without a database URL (only
    /// the COPY baseline needs one), as `account`, a new account allowed `bench.>`.
    private static func withDaemon(
        account: String,
        settings: [String: String] = [:],
        _ body: (Daemon, [String: String]) async throws -> Void
    ) async throws {
        for command in [
            ["account", "add", account, "--kind", "entity"], ["acl", "grant", account, "pub", "bench.>"],
            ["acl", "grant", account, "sub", "bench.>"],
        ] {
            let result = try await CLIDatabase.run(command)
            try #require(result.status == 0, "\(result)")
        }
        let issued = try await CLIDatabase.run(["token", "issue", account])
        let token = try #require(issued.lines.first, "\(issued)")
        let daemon = try await Daemon(databaseURL: try CLIDatabase.currentURL(), settings: settings)
        let environment = [
            "LIAISON_SERVER": "127.0.0.1:\(daemon.port)", "LIAISON_ACCOUNT": account, "LIAISON_TOKEN": token,
        ]
        do {
            try await body(daemon, environment)
        } catch {
            await daemon.stop()
            throw error
        }
        await daemon.stop()
    }

    private static func object(_ result: CLIResult) throws -> [String: Any] {
        let line = try #require(result.lines.last, "\(result)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
    }

    @Test func seeksAreTimedIntoTheStoredLog() async throws {
        try await Self.withDaemon(account: "bench-seeks") { _, environment in
            let published = try await CLI.run(
                ["bench", "--publishers", "1", "--messages", "300", "--runs", "1", "--no-copy", "--json"],
                environment: environment
            )
            #expect(published.status == 0, "\(published)")
            let result = try await CLI.run(["bench", "--seeks", "5", "--json"], environment: environment)
            #expect(result.status == 0, "\(result)")
            let report = try Self.object(result)
            #expect(report["seeks"] as? Int == 5)
            // The 300 messages and the seek's own head message.
            #expect((report["head_seq"] as? Int).map { $0 >= 301 } == true, "\(report)")
            let latencies = try #require(report["seek_ms"] as? [String: Any], "\(report)")
            #expect(latencies["count"] as? Int == 5)
            #expect((latencies["p50"] as? Double).map { $0 > 0 } == true, "\(latencies)")
        }
    }

    @Test func idleConnectionsEachHoldASubscription() async throws {
        try await Self.withDaemon(account: "bench-idle", settings: ["LIAISON_METRICS_LISTEN": "127.0.0.1:0"]) {
            daemon,
            environment in
            let metricsPort = try await MetricsEndpointTests.metricsPort(daemon)
            let holding = Task {
                try await CLI.run(
                    ["bench", "--idle-connections", "20", "--daemon-pid", "\(daemon.pid)", "--json"],
                    environment: environment
                )
            }
            // bench holds the connections for 2 s after the last one is open.
            var most = 0.0
            let deadline = ContinuousClock.now + .seconds(30)
            while most < 20, ContinuousClock.now < deadline {
                let scrape = try await MetricsEndpointTests.get(metricsPort, "/metrics")
                most = max(most, MetricsEndpointTests.value(scrape.body, "liaison_subscriptions") ?? 0)
                try await Task.sleep(for: .milliseconds(50))
            }
            let result = try await holding.value
            #expect(result.status == 0, "\(result)")
            #expect(most == 20, "subscriptions seen while bench held its idle connections: \(most)")
            let report = try Self.object(result)
            #expect(report["idle_connections"] as? Int == 20)
            #expect((report["rss_after_bytes"] as? Int).map { $0 > 0 } == true, "\(report)")
        }
    }
}
