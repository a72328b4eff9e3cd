import Foundation
import Postgres
import Testing

/// The security events sealed by a real liaisond into their own tree, and `audit verify` naming
/// the first event that was changed, deleted or inserted after sealing (docs/AUDIT.md, "Security events").
@Suite(.cliDatabase, .serialized)
struct AuditEventSealTests {
    static func verify() async throws -> CLIResult {
        try await CLIDatabase.run(["audit", "verify"])
    }

    @Test func changedDeletedAndInsertedEventsAreNamed() async throws {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        // Events 1…3 from admin commands (with an actor), then 101…103 after a gap of ids.
        for days in [10, 20, 30] {
            let set = try await RetentionSupport.ctl(["retention", "set", "field.>", "--keep-days", "\(days)"])
            #expect(set.status == 0, "\(set)")
        }
        try connection.execute(
            script: """
                SELECT setval('security_events_id_seq', 100);
                INSERT INTO security_events (kind, account, remote, reason)
                VALUES ('auth.ok', 'ohchr', '127.0.0.1:5000', ''), ('auth.failed', NULL, NULL, 'bad token'),
                       ('pub.refused', 'fr', '127.0.0.1:5001', 'topic hq.x is not allowed');
                """
        )
        let daemon = try await Daemon(databaseURL: try CLIDatabase.currentURL(), settings: RetentionSupport.settings())
        defer { Task { await daemon.stop() } }
        var sealed = 0
        for _ in 0..<300 where sealed < 6 {
            try await Task.sleep(for: .milliseconds(100))
            sealed = try RetentionSupport.count(
                "SELECT coalesce(max(tree_size), 0) FROM audit_event_checkpoints",
                on: connection
            )
        }
        #expect(sealed == 6)
        let clean = try await Self.verify()
        #expect(clean.status == 0 && clean.stdout.contains("events: 6 sealed security events match"), "\(clean)")
        #expect(clean.stdout.contains("the last covers events 1–103"), "\(clean)")

        try await RetentionSupport.expectDetected(
            [
                .init(
                    tamper: "UPDATE security_events SET reason = reason || 'x' WHERE id = 2",
                    restore: "UPDATE security_events SET reason = left(reason, -1) WHERE id = 2",
                    words: ["event 2", "changed after sealing"]
                ),
                .init(
                    tamper: "UPDATE security_events SET actor = 'mallory' WHERE id = 3",
                    restore: "UPDATE security_events SET actor = 'alice' WHERE id = 3",
                    words: ["event 3", "changed after sealing"]
                ),
                .init(
                    tamper: "UPDATE security_events SET account = '' WHERE id = 102",
                    restore: "UPDATE security_events SET account = NULL WHERE id = 102",
                    words: ["event 102", "changed after sealing"]
                ),
                .init(
                    tamper:
                        "CREATE TABLE saved AS SELECT * FROM security_events WHERE id = 101; DELETE FROM security_events WHERE id = 101",
                    restore: "INSERT INTO security_events SELECT * FROM saved; DROP TABLE saved",
                    words: ["event 101", "deleted after sealing"]
                ),
                .init(
                    tamper: "INSERT INTO security_events (id, kind, reason) VALUES (50, 'auth.ok', 'forged')",
                    restore: "DELETE FROM security_events WHERE id = 50",
                    words: ["event 50", "inserted after sealing"]
                ),
            ],
            on: connection
        )
    }
}
