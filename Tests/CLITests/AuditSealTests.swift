import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import Testing

/// The log sealer in a real liaisond and `liaisonctl audit verify|checkpoint|key` against a real
/// PostgreSQL: every kind of tampering is detected and the first bad seq named (docs/AUDIT.md).
@Suite(.cliDatabase, .serialized)
struct AuditSealTests {
    static let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("audit-seal-\(UUID()).key").path

    static let settings = [
        "LIAISON_AUDIT_CHECKPOINT_MESSAGES": "5", "LIAISON_AUDIT_CHECKPOINT_SECONDS": "1",
        "LIAISON_AUDIT_SEAL_INTERVAL_MS": "50", "LIAISON_AUDIT_SIGNING_KEY_FILE": keyFile,
    ]

    /// Appends `count` messages with a `k` header and returns their seqs.
    @discardableResult
    static func append(_ count: Int, from first: Int, on connection: Connection) throws -> [Int64] {
        let batch = try (first..<first + count).map { index in
            NewMessage(
                topic: try Topic("hq.audit.m\(index)"),
                account: "auditor",
                headers: try Headers(parsing: ["k=v\(index)"]),
                payload: Array("payload \(index)".utf8)
            )
        }
        return try #require(try MessageLog().append(batch, on: connection)).seqs
    }

    /// Puts messages 1…10 and 17…26 in the log (a gap of never-used seqs between), once per suite.
    static func prepare(on connection: Connection) throws {
        guard try connection.query("SELECT count(*) FROM messages").decode(Int.self, row: 0, column: 0) == 0 else {
            return
        }
        try Self.append(10, from: 1, on: connection)  // seqs 1…10
        try connection.query("SELECT setval('message_seq', 16)")  // a gap: 11…16 never used
        try Self.append(10, from: 11, on: connection)  // seqs 17…26
    }

    /// The number of messages in the log.
    static func total(on connection: Connection) throws -> Int {
        try connection.query("SELECT count(*) FROM messages").decode(Int.self, row: 0, column: 0)
    }

    /// Waits until `count` leaves and a checkpoint over all of them are stored.
    static func waitSealed(_ count: Int, on connection: Connection) async throws {
        for _ in 0..<200 {
            let sealed = try connection.query(
                "SELECT (SELECT count(*) FROM audit_leaves), (SELECT coalesce(max(tree_size), 0) FROM audit_checkpoints)"
            )
            if try sealed.decode(Int.self, row: 0, column: 0) == count,
                try sealed.decode(Int.self, row: 0, column: 1) == count
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the sealer did not seal \(count) messages within 20 s")
    }

    /// Prepares the log, starts a sealing daemon and waits until it sealed everything.
    static func startSealing(on connection: Connection) async throws -> (Daemon, Int) {
        try Self.prepare(on: connection)
        let total = try Self.total(on: connection)
        let daemon = try await Daemon(databaseURL: try CLIDatabase.currentURL(), settings: Self.settings)
        try await Self.waitSealed(total, on: connection)
        return (daemon, total)
    }

    static func verify(_ arguments: [String] = []) async throws -> CLIResult {
        try await CLIDatabase.run(["audit", "verify"] + arguments)
    }

    /// Runs a tampering, checks that verify names `seq` (and the kind's words), then undoes it.
    static func expectDetected(
        _ name: String,
        tamper: String,
        restore: String,
        seq: Int64,
        words: String,
        on connection: Connection
    ) async throws {
        try connection.execute(script: tamper)
        let result = try await Self.verify()
        #expect(result.status == 1, "\(name): \(result)")
        #expect(result.stderr.contains("seq \(seq)"), "\(name): \(result)")
        #expect(result.stderr.contains(words), "\(name): \(result)")
        try connection.execute(script: restore)
        let again = try await Self.verify()
        #expect(again.status == 0, "\(name) restored: \(again)")
    }

    @Test func everyTamperingIsDetectedAndNamed() async throws {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        let (daemon, total) = try await Self.startSealing(on: connection)
        defer { Task { await daemon.stop() } }

        let clean = try await Self.verify()
        #expect(clean.status == 0, "\(clean)")
        #expect(clean.stdout.contains("ok: \(total) sealed messages"), "\(clean)")
        #expect(clean.stdout.contains("(tree size \(total)"), "\(clean)")

        let cases: [(String, String, String, Int64, String)] = [
            (
                "payload", "UPDATE messages SET payload = payload || 'x' WHERE seq = 3",
                "UPDATE messages SET payload = substring(payload FROM 1 FOR length(payload) - 1) WHERE seq = 3", 3,
                "changed after sealing"
            ),
            (
                "topic", "UPDATE messages SET topic = topic || 'x' WHERE seq = 18",
                "UPDATE messages SET topic = left(topic, -1) WHERE seq = 18", 18, "changed after sealing"
            ),
            (
                "header", "UPDATE messages SET headers = jsonb_set(headers, '{k}', '\"evil\"') WHERE seq = 5",
                "UPDATE messages SET headers = jsonb_set(headers, '{k}', '\"v5\"') WHERE seq = 5", 5,
                "changed after sealing"
            ),
            (
                "header added", "UPDATE messages SET headers = headers || '{\"prio\":\"flash\"}' WHERE seq = 6",
                "UPDATE messages SET headers = headers - 'prio' WHERE seq = 6", 6, "changed after sealing"
            ),
            (
                "header type", "UPDATE messages SET headers = '{\"k\":7}' WHERE seq = 7",
                "UPDATE messages SET headers = '{\"k\":\"v7\"}' WHERE seq = 7", 7, "not a JSON object of strings"
            ),
            (
                "time", "UPDATE messages SET published_at = published_at + interval '1 microsecond' WHERE seq = 20",
                "UPDATE messages SET published_at = published_at - interval '1 microsecond' WHERE seq = 20", 20,
                "changed after sealing"
            ),
            (
                "account", "UPDATE messages SET account = 'someone' WHERE seq = 2",
                "UPDATE messages SET account = 'auditor' WHERE seq = 2", 2, "changed after sealing"
            ),
            (
                "delete",
                "CREATE TABLE saved AS SELECT * FROM messages WHERE seq = 8; DELETE FROM messages WHERE seq = 8",
                "INSERT INTO messages SELECT * FROM saved; DROP TABLE saved", 8, "deleted after sealing"
            ),
            (
                "insert",
                "INSERT INTO messages SELECT 12, topic, account, published_at, headers, payload FROM messages WHERE seq = 9",
                "DELETE FROM messages WHERE seq = 12", 12, "inserted after sealing"
            ),
            (
                "swap",
                "UPDATE messages m SET payload = o.payload FROM messages o WHERE (m.seq, o.seq) IN ((4, 9), (9, 4))",
                "UPDATE messages m SET payload = o.payload FROM messages o WHERE (m.seq, o.seq) IN ((4, 9), (9, 4))", 4,
                "changed after sealing"
            ),
            (
                "leaf", "UPDATE audit_leaves SET hash = sha256(hash) WHERE seq = 22",
                "CREATE TABLE x AS SELECT 1; DROP TABLE x", 22, "no longer matches its sealed leaf"
            ),
        ]
        for (name, tamper, restore, seq, words) in cases {
            if name == "leaf" {
                // Undo by recomputing: seal state is a pure function of the row, so restore from a copy.
                try connection.execute(script: "CREATE TABLE leaf_copy AS SELECT * FROM audit_leaves WHERE seq = 22")
                try await Self.expectDetected(
                    name,
                    tamper: tamper,
                    restore:
                        "UPDATE audit_leaves l SET hash = c.hash FROM leaf_copy c WHERE l.seq = c.seq; DROP TABLE leaf_copy",
                    seq: seq,
                    words: words,
                    on: connection
                )
            } else {
                try await Self.expectDetected(
                    name,
                    tamper: tamper,
                    restore: restore,
                    seq: seq,
                    words: words,
                    on: connection
                )
            }
        }
        // Stopped before the next test, whose check of unsealed rows needs no sealer running.
        await daemon.stop()
    }

    @Test func checkpointsAreSignedKeptAndCheckedLater() async throws {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        let (daemon, total) = try await Self.startSealing(on: connection)
        defer { Task { await daemon.stop() } }
        let mode = try #require(
            try FileManager.default.attributesOfItem(atPath: Self.keyFile)[.posixPermissions] as? NSNumber
        )
        #expect(mode.intValue & 0o777 == 0o600)

        let directory = FileManager.default.temporaryDirectory
        let keyResult = try await CLIDatabase.run(["audit", "key"])
        #expect(keyResult.status == 0 && keyResult.stdout.hasPrefix("ed25519:"), "\(keyResult)")
        let fromFile = try await CLIDatabase.run(["audit", "key", "--key-file", Self.keyFile])
        #expect(fromFile.stdout == keyResult.stdout)
        let publicKey = directory.appendingPathComponent("audit-\(UUID()).pub")
        try keyResult.stdout.write(to: publicKey, atomically: true, encoding: .utf8)
        let text = try await CLIDatabase.run(["audit", "checkpoint"])
        #expect(text.status == 0 && text.stdout.hasPrefix(Checkpoint.header + "\ntree-size \(total)\n"), "\(text)")
        let json = try await CLIDatabase.run(["audit", "checkpoint", "--json"])
        let kept = directory.appendingPathComponent("audit-\(UUID()).checkpoint")
        try json.stdout.write(to: kept, atomically: true, encoding: .utf8)
        #expect(try Checkpoint(parsing: json.stdout) == Checkpoint(parsing: text.stdout))

        let checked = try await Self.verify(["--public-key", publicKey.path, "--checkpoint", kept.path])
        #expect(checked.status == 0, "\(checked)")
        #expect(checked.stdout.contains("the log still extends it"), "\(checked)")
        #expect(!checked.stdout.contains("taken from the database"), "\(checked)")
        let ranged = try await Self.verify(["--from", "17", "--to", "26"])
        #expect(ranged.status == 0 && ranged.stdout.contains("after seq 10"), "\(ranged)")

        // The database's checkpoints rewritten along with a row: the kept one still catches it.
        let original = try connection.query(
            "SELECT signature FROM audit_checkpoints WHERE tree_size = $1",
            [Int64(total).postgresBind]
        )
        .decode([UInt8].self, row: 0, column: 0)
        try connection.query(
            "UPDATE audit_checkpoints SET signature = sha512(signature) WHERE tree_size = $1",
            [Int64(total).postgresBind]
        )
        let forged = try await Self.verify()
        #expect(forged.status == 1 && forged.stderr.contains("signature does not verify"), "\(forged)")
        try connection.query(
            "UPDATE audit_checkpoints SET signature = $1 WHERE tree_size = $2",
            [original.postgresBind, Int64(total).postgresBind]
        )

        let stranger = directory.appendingPathComponent("audit-\(UUID()).pub")
        try (AuditSigningKey().publicKey.text + "\n").write(to: stranger, atomically: true, encoding: .utf8)
        let untrusted = try await Self.verify(["--public-key", stranger.path])
        #expect(untrusted.status == 1 && untrusted.stderr.contains("not among the trusted keys"), "\(untrusted)")
        for file in [publicKey, kept, stranger] { try? FileManager.default.removeItem(at: file) }
        // Stopped before the next test, whose check of unsealed rows needs no sealer running.
        await daemon.stop()
    }

    @Test func theSealerCatchesUpAfterARestart() async throws {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        let (daemon, total) = try await Self.startSealing(on: connection)
        await daemon.crash()
        try Self.append(7, from: 100, on: connection)
        let unsealed = try await Self.verify()
        #expect(unsealed.status == 0 && unsealed.stdout.contains("not yet sealed: 7 messages"), "\(unsealed)")
        let again = try await daemon.restarted()
        defer { Task { await again.stop() } }
        try await Self.waitSealed(total + 7, on: connection)
        let verified = try await Self.verify()
        #expect(verified.status == 0 && verified.stdout.contains("ok: \(total + 7) sealed messages"), "\(verified)")
    }
}
