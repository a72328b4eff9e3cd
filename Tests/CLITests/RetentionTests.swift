import Foundation
import Postgres
import Testing

/// `liaisonctl retention` against a real PostgreSQL and a sealing liaisond: policies and holds
/// decide what a purge removes, the purge is recorded, and `audit verify` still passes over the
/// purged log while a plain DELETE is still named (docs/AUDIT.md, "Retention").
@Suite(.cliDatabase, .serialized)
struct RetentionTests {
    @Test func purgeKeepsHeldAndRecentMessagesAndTheLogStillVerifies() async throws {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        try RetentionSupport.insert(30, topic: "field.fr.x", ageDays: 500, on: connection)  // seqs 1…30
        try RetentionSupport.insert(10, topic: "field.fr.y", ageDays: 0, on: connection)  // 31…40: recent
        try RetentionSupport.insert(10, topic: "hq.ohchr.z", ageDays: 500, on: connection)  // 41…50: no policy
        try RetentionSupport.insert(5, topic: "field.de.a", ageDays: 500, on: connection)  // 51…55: held by pattern
        let daemon = try await Daemon(databaseURL: try CLIDatabase.currentURL(), settings: RetentionSupport.settings())
        defer { Task { await daemon.stop() } }
        try await RetentionSupport.waitSealed(55, on: connection)

        let set = try await RetentionSupport.ctl(["retention", "set", "field.>", "--keep-days", "400"])
        #expect(set.status == 0 && set.stdout.contains("field.>: keep 400 days"), "\(set)")
        let bySeq = try await RetentionSupport.ctl(
            ["retention", "hold", "--seq", "5-7", "--reason", "case 1"],
            actor: "bob"
        )
        #expect(bySeq.stdout.contains("hold 1 placed on seqs 5-7"), "\(bySeq)")
        let byPattern = try await RetentionSupport.ctl(["retention", "hold", "field.de.>", "--reason", "case 2"])
        #expect(byPattern.stdout.contains("hold 2 placed on field.de.>"), "\(byPattern)")
        let list = try await CLIDatabase.run(["retention", "list"])
        for words in ["field.>", "400 days", "seqs 5-7", "case 2", "bob", "purges: none yet"] {
            #expect(list.stdout.contains(words), "\(words): \(list)")
        }

        let dry = try await RetentionSupport.ctl(["retention", "run", "--dry-run"])
        #expect(dry.status == 0 && dry.stdout.contains("would purge 27 messages"), "\(dry)")
        #expect(try RetentionSupport.count("SELECT count(*) FROM messages", on: connection) == 55)

        let run = try await RetentionSupport.ctl(["retention", "run", "--batch-size", "4"], actor: "carol")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("purged 27 messages") && run.stdout.contains("field.>: 27"), "\(run)")
        #expect(run.stdout.contains("held: 8 messages"), "\(run)")
        let left = try connection.query("SELECT array_agg(seq ORDER BY seq) FROM messages").decode(
            [Int64].self,
            row: 0,
            column: 0
        )
        #expect(left == [5, 6, 7] + Array(31...55))
        let purge = try connection.query("SELECT run_by, messages, finished_at IS NOT NULL FROM retention_purges")
        try #require(purge.rowCount == 1)
        #expect(try purge.decode(String.self, row: 0, column: 0) == "carol")
        #expect(try purge.decode(Int64.self, row: 0, column: 1) == 27)
        #expect(try purge.decode(Bool.self, row: 0, column: 2))
        #expect(
            try RetentionSupport.count("SELECT sum(messages)::bigint FROM retention_purged_ranges", on: connection)
                == 27
        )
        #expect(
            try RetentionSupport.count("SELECT count(*) FROM audit_leaves WHERE purge_id IS NOT NULL", on: connection)
                == 27
        )

        let verified = try await CLIDatabase.run(["audit", "verify"])
        #expect(verified.status == 0, "\(verified)")
        #expect(
            verified.stdout.contains("ok: 55 sealed messages") && verified.stdout.contains("purged: 27"),
            "\(verified)"
        )

        // The auditor's read-only login verifies the purged log as well (migration 0010's grants).
        let auditor = "auditor_\(UUID().uuidString.prefix(8).lowercased())"
        try connection.execute(script: "CREATE ROLE \(auditor) LOGIN IN ROLE liaison_auditor")
        defer { _ = try? connection.execute(script: "DROP ROLE IF EXISTS \(auditor)") }
        var components = try #require(URLComponents(string: try CLIDatabase.currentURL()))
        components.user = auditor
        let asAuditor = try await CLI.run(["audit", "verify", "--database-url", try #require(components.string)])
        #expect(asAuditor.status == 0 && asAuditor.stdout.contains("purged: 27"), "\(asAuditor)")

        let events = try connection.query(
            "SELECT kind || ' ' || actor FROM security_events WHERE kind LIKE 'retention.%' ORDER BY id"
        )
        #expect(
            try (0..<events.rowCount).map { try events.decode(String.self, row: $0, column: 0) }
                == ["retention.set alice", "retention.hold bob", "retention.hold alice"]
        )

        // A purge record that did not allow the purge, and a DELETE without a purge record.
        try await RetentionSupport.expectDetected(
            [
                .init(
                    tamper: "UPDATE audit_leaves SET purge_keep_days = 1000 WHERE seq = 10",
                    restore: "UPDATE audit_leaves SET purge_keep_days = 400 WHERE seq = 10",
                    words: ["seq 10", "before its policy field.> (1000 days) allowed"]
                ),
                .init(
                    tamper:
                        "CREATE TABLE saved AS SELECT * FROM messages WHERE seq = 45; DELETE FROM messages WHERE seq = 45",
                    restore: "INSERT INTO messages SELECT * FROM saved; DROP TABLE saved",
                    words: ["seq 45", "deleted after sealing"]
                ),
                .init(
                    tamper: "UPDATE audit_leaves SET purged_at = now() - interval '300 days' WHERE seq = 12",
                    restore:
                        "UPDATE audit_leaves SET purged_at = (SELECT purged_at FROM audit_leaves WHERE seq = 11) WHERE seq = 12",
                    words: ["seq 12", "before its policy"]
                ),
            ],
            on: connection
        )

        let released = try await RetentionSupport.ctl(["retention", "release", "1"])
        #expect(released.status == 0 && released.stdout.contains("hold 1 on seqs 5-7 released"), "\(released)")
        let again = try await RetentionSupport.ctl(["retention", "release", "1"])
        #expect(again.status == 1 && again.stderr.contains("hold 1 was released already"), "\(again)")
        let second = try await RetentionSupport.ctl(["retention", "run"])
        #expect(second.stdout.contains("purged 3 messages") && second.stdout.contains("held: 5"), "\(second)")
        let after = try await CLIDatabase.run(["audit", "verify"])
        #expect(after.status == 0 && after.stdout.contains("purged: 30"), "\(after)")
    }

    @Test func dedupeKeysPastTheWindowExpire() async throws {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        try connection.execute(
            script: """
                INSERT INTO dedupe_keys (account, key, seq, created_at)
                SELECT 'fr', 'old-' || g, g, now() - interval '2 days' FROM generate_series(1, 5) g;
                INSERT INTO dedupe_keys (account, key, seq) VALUES ('fr', 'fresh', 99);
                """
        )
        let without = try await RetentionSupport.ctl(["retention", "run"])
        #expect(without.status == 0, "\(without)")
        #expect(try RetentionSupport.count("SELECT count(*) FROM dedupe_keys", on: connection) == 6)
        let run = try await RetentionSupport.ctl([
            "retention", "run", "--dedupe-window-seconds", "86400", "--batch-size", "2",
        ])
        #expect(run.status == 0 && run.stdout.contains("dedupe keys: expired 5"), "\(run)")
        let keys = try connection.query("SELECT array_agg(key) FROM dedupe_keys").decode(
            [String].self,
            row: 0,
            column: 0
        )
        #expect(keys == ["fresh"])
    }

    @Test func badArgumentsAndUnknownIdsFailWithTheirCodes() async throws {
        let badPattern = try await RetentionSupport.ctl(["retention", "set", "field..x", "--keep-days", "3"])
        #expect(badPattern.status == 64 && badPattern.stderr.contains("pattern 'field..x'"), "\(badPattern)")
        let noKeep = try await RetentionSupport.ctl(["retention", "set", "field.>"])
        #expect(noKeep.status == 64 && noKeep.stderr.contains("--keep-days N or --remove"), "\(noKeep)")
        let badRange = try await RetentionSupport.ctl(["retention", "hold", "--seq", "9-3", "--reason", "x"])
        #expect(badRange.status == 64, "\(badRange)")
        let noScope = try await RetentionSupport.ctl(["retention", "hold", "--reason", "x"])
        #expect(noScope.status == 64, "\(noScope)")
        let unknown = try await RetentionSupport.ctl(["retention", "release", "999"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no hold 999"), "\(unknown)")
        let none = try await RetentionSupport.ctl(["retention", "set", "nothing.>", "--remove"])
        #expect(none.status == 1 && none.stderr.contains("no retention policy for nothing.>"), "\(none)")
    }
}
