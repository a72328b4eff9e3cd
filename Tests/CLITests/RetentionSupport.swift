import Foundation
import Postgres
import Testing

/// Shared set-up of the retention tests: old messages written with SQL, a sealing daemon, waits.
enum RetentionSupport {
    /// Daemon settings: checkpoints every 10 messages or second, the retention service off (the
    /// tests run `retention run` themselves) unless a test turns it on.
    static func settings(checkpointMessages: Int = 10, retention: Bool = false) -> [String: String] {
        [
            "LIAISON_AUDIT_CHECKPOINT_MESSAGES": "\(checkpointMessages)", "LIAISON_AUDIT_CHECKPOINT_SECONDS": "1",
            "LIAISON_AUDIT_SEAL_INTERVAL_MS": "50",
            "LIAISON_AUDIT_SIGNING_KEY_FILE": FileManager.default.temporaryDirectory
                .appendingPathComponent("retention-\(UUID()).key").path,
            "LIAISON_RETENTION_ENABLED": retention ? "true" : "false", "LIAISON_RETENTION_INTERVAL_SECONDS": "1",
        ]
    }

    /// Appends `count` messages on `topic` published `ageDays` days ago, with SQL (as old rows
    /// would be), before the sealer sees them.
    static func insert(_ count: Int, topic: String, ageDays: Int, on connection: Connection) throws {
        try connection.execute(
            script: """
                INSERT INTO messages (seq, topic, account, published_at, headers, payload)
                SELECT nextval('message_seq'), '\(topic)', 'fr', now() - interval '\(ageDays) days',
                    jsonb_build_object('n', g::text), convert_to('payload ' || g, 'UTF8')
                FROM generate_series(1, \(count)) AS g
                """
        )
    }

    static func count(_ sql: String, on connection: Connection) throws -> Int {
        try connection.query(sql).decode(Int.self, row: 0, column: 0)
    }

    /// Waits until `count` leaves and a checkpoint over all of them are stored.
    static func waitSealed(_ count: Int, on connection: Connection) async throws {
        for _ in 0..<1_200 {
            let leaves = try Self.count("SELECT count(*) FROM audit_leaves", on: connection)
            let signed = try Self.count("SELECT coalesce(max(tree_size), 0) FROM audit_checkpoints", on: connection)
            if leaves == count, signed == count { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the sealer did not seal and sign \(count) messages within 120 s")
    }

    /// Runs `liaisonctl` with the suite's database and an actor.
    static func ctl(_ arguments: [String], actor: String = "alice") async throws -> CLIResult {
        try await CLIDatabase.run(arguments + ["--actor", actor])
    }

    /// One tampering: the SQL that does it, the SQL that undoes it, and what verify must name.
    struct Tampering {
        var tamper: String
        var restore: String
        var words: [String]
    }

    /// For each tampering: runs it, checks that `audit verify` fails naming every one of its
    /// words, restores, and checks that it passes again.
    static func expectDetected(_ cases: [Tampering], on connection: Connection) async throws {
        for tampering in cases {
            try connection.execute(script: tampering.tamper)
            let result = try await CLIDatabase.run(["audit", "verify"])
            #expect(result.status == 1, "\(tampering.tamper): \(result)")
            for word in tampering.words {
                #expect(result.stderr.contains(word), "\(tampering.tamper): \(word): \(result)")
            }
            try connection.execute(script: tampering.restore)
            let again = try await CLIDatabase.run(["audit", "verify"])
            #expect(again.status == 0, "\(tampering.restore): \(again)")
        }
    }
}
