import Foundation
import Postgres
import Testing

/// A big purge while publishers publish: every publish is answered `OK PUB`, some of them commit
/// while the purge is under way (it never takes the append lock), and the log verifies after.
@Suite(.cliDatabase, .serialized)
struct RetentionUnderLoadTests {
    @Test func publishingGoesOnWhileABigPurgeRuns() async throws {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        let token = try #require(try await Daemon.issueTokens(for: ["ohchr"])["ohchr"])
        try RetentionSupport.insert(20_000, topic: "field.fr.x", ageDays: 500, on: connection)
        let daemon = try await Daemon(
            databaseURL: try CLIDatabase.currentURL(),
            settings: RetentionSupport.settings(checkpointMessages: 5_000)
        )
        defer { Task { await daemon.stop() } }
        try await RetentionSupport.waitSealed(20_000, on: connection)
        let set = try await RetentionSupport.ctl(["retention", "set", ">", "--keep-days", "30"])
        #expect(set.status == 0, "\(set)")

        let client = try ProcessClient(port: daemon.port)
        try client.authenticate(account: "ohchr", token: token)
        let purge = try ChildProcess(
            "liaisonctl",
            ["retention", "run", "--batch-size", "100", "--actor", "load"],
            environment: ["LIAISON_DATABASE_URL": try CLIDatabase.currentURL()]
        )
        var replies: [ProcessClient.Reply] = []
        let sealedCeiling: Int64 = 20_000
        // Publish until the purge has ended (and at least once).
        repeat {
            let run = try await ProcessClient.onThread {
                client.publish(count: 20, window: 20) { index in
                    ProcessClient.Outgoing(topic: "hq.ohchr.live", payload: Array("during \(index)".utf8))
                }
            }
            replies += run.replies
            #expect(run.ending == .complete)
        } while purge.exitCode == nil && replies.count < 1_000_000
        let code = await purge.waitForExit(within: .seconds(300))
        #expect(code == 0, "\(purge.stdout)\(purge.stderr)")
        #expect(purge.stdout.contains("purged 20000 messages"), "\(purge.stdout)")
        #expect(!replies.isEmpty)
        for reply in replies {
            guard case .published(let seq, false) = reply else {
                Issue.record("a publish during the purge got \(reply)")
                break
            }
            #expect(seq > sealedCeiling)
        }
        // Publishes committed between the purge's start and end: it did not block them.
        let during = try RetentionSupport.count(
            """
            SELECT count(*) FROM messages m, retention_purges p
            WHERE m.topic = 'hq.ohchr.live' AND m.published_at > p.started_at AND m.published_at < p.finished_at
            """,
            on: connection
        )
        #expect(during > 0, "no publish committed while the purge ran")
        #expect(
            try RetentionSupport.count("SELECT count(*) FROM messages WHERE topic = 'field.fr.x'", on: connection) == 0
        )

        try await RetentionSupport.waitSealed(20_000 + replies.count, on: connection)
        let verified = try await CLIDatabase.run(["audit", "verify"])
        #expect(verified.status == 0 && verified.stdout.contains("purged: 20000"), "\(verified)")
    }
}

/// The daemon's retention service purges by itself, every `retention.intervalSeconds`, once the
/// messages are covered by a signed checkpoint; a second purger meanwhile is turned away.
@Suite(.cliDatabase, .serialized)
struct RetentionServiceTests {
    @Test func theDaemonPurgesOnItsOwn() async throws {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        try RetentionSupport.insert(25, topic: "field.fr.x", ageDays: 10, on: connection)
        try RetentionSupport.insert(5, topic: "field.fr.x", ageDays: 1, on: connection)
        let set = try await RetentionSupport.ctl(["retention", "set", "field.>", "--keep-days", "7"])
        #expect(set.status == 0, "\(set)")
        let daemon = try await Daemon(
            databaseURL: try CLIDatabase.currentURL(),
            settings: RetentionSupport.settings(retention: true)
        )
        defer { Task { await daemon.stop() } }
        var left = 30
        for _ in 0..<600 where left != 5 {
            try await Task.sleep(for: .milliseconds(100))
            left = try RetentionSupport.count("SELECT count(*) FROM messages", on: connection)
        }
        #expect(left == 5)
        let runBy = try connection.query("SELECT run_by FROM retention_purges ORDER BY id LIMIT 1")
        try #require(runBy.rowCount == 1)
        #expect(try runBy.decode(String.self, row: 0, column: 0).hasPrefix("liaisond "))

        // While a session holds the purge lock, `retention run` is turned away with exit 1.
        let holder = try CLIDatabase.connect()
        defer { holder.close() }
        for _ in 0..<100 {
            if try holder.query("SELECT pg_try_advisory_lock(7420004)").decode(Bool.self, row: 0, column: 0) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let busy = try await RetentionSupport.ctl(["retention", "run"])
        #expect(busy.status == 1 && busy.stderr.contains("another purge is running"), "\(busy)")
        _ = try holder.query("SELECT pg_advisory_unlock(7420004)")

        let verified = try await CLIDatabase.run(["audit", "verify"])
        #expect(verified.status == 0 && verified.stdout.contains("purged: 25"), "\(verified)")
    }
}
