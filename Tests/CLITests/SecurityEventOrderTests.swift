import Foundation
import Postgres
import Testing

/// Migration 0010's trigger: security events commit in id order, so the sealer, reading "after
/// the last sealed id", can never pass over one (docs/AUDIT.md, "Security events").
@Suite(.cliDatabase, .serialized)
struct SecurityEventOrderTests {
    @Test func aSecondInsertWaitsForTheFirstTransactionsCommit() async throws {
        let first = try CLIDatabase.connect()
        defer { first.close() }
        // The second connection on a worker thread of its own: its insert must wait for the first.
        let url = try CLIDatabase.currentURL()
        let second = PostgresWorker(name: "second") { try Connection(url) }
        defer { second.shutdown() }
        try first.query("BEGIN")
        let firstID = try first.query(
            "INSERT INTO security_events (kind, reason) VALUES ('auth.ok', 'first') RETURNING id"
        ).decode(Int64.self, row: 0, column: 0)
        let secondPID = try await second.run { connection in
            try connection.query("SELECT pg_backend_pid()").decode(Int64.self, row: 0, column: 0)
        }
        let insert = Task {
            try await second.run { connection in
                try connection.query(
                    "INSERT INTO security_events (kind, reason) VALUES ('auth.ok', 'second') RETURNING id"
                ).decode(Int64.self, row: 0, column: 0)
            }
        }

        let watcher = try CLIDatabase.connect()
        defer { watcher.close() }
        var waiting = false
        for _ in 0..<200 where !waiting {
            waiting = try watcher.query(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND locktype = 'advisory' AND NOT granted)",
                [secondPID.postgresBind]
            ).decode(Bool.self, row: 0, column: 0)
            if !waiting { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(waiting, "the second insert did not wait for the first transaction's lock")
        try first.query("COMMIT")
        let id = try await insert.value
        #expect(id > firstID)
    }
}
