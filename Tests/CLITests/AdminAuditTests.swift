import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import Testing

/// Every admin change made with `liaisonctl` is in the audit trail, with its actor and what
/// changed (docs/AUDIT.md, "Admin changes").
@Suite(.cliDatabase, .serialized)
struct AdminAuditTests {
    /// The events about `account`, oldest first.
    private static func events(account: String) async throws -> [[String: Any]] {
        let result = try await CLIDatabase.run(["audit", "events", "--json", "--account", account, "--limit", "1000"])
        #expect(result.status == 0, "\(result)")
        return try result.lines.reversed().map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    private static func ok(_ arguments: [String], environment: [String: String] = [:]) async throws {
        let result = try await CLIDatabase.run(arguments, environment: environment)
        #expect(result.status == 0, "\(result)")
    }

    @Test func accountChangesAreRecordedWithTheActorAndOldToNew() async throws {
        try await Self.ok(["account", "add", "adm-ent", "--kind", "entity", "--actor", "alice"])
        try await Self.ok(["account", "disable", "adm-ent", "--actor", "bob"])
        try await Self.ok(["account", "enable", "adm-ent"], environment: ["SUDO_USER": "carol"])
        try await Self.ok(["account", "clearance", "adm-ent", "public", "--actor", "alice"])

        let events = try await Self.events(account: "adm-ent")
        #expect(
            events.map { $0["kind"] as? String } == [
                "account.added", "account.disabled", "account.enabled", "clearance.changed",
            ]
        )
        #expect(events.map { $0["actor"] as? String } == ["alice", "bob", "carol", "alice"])
        #expect(
            events.map { $0["reason"] as? String } == [
                "added entity, role member, clearance internal", "enabled -> disabled", "disabled -> enabled",
                "clearance internal -> public",
            ]
        )
        #expect(events.allSatisfy { $0["remote"] as? String == "liaisonctl" })

        let byAlice = try await CLIDatabase.run(["audit", "events", "--json", "--actor", "alice"])
        #expect(byAlice.status == 0, "\(byAlice)")
        #expect(byAlice.lines.count >= 2 && byAlice.lines.allSatisfy { $0.contains(#""actor":"alice""#) })
    }

    @Test func importRecordsOneEventPerAccountCreatedOrChangedAndNoneForUnchanged() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("adm-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        func write(_ country: String) throws {
            let json = """
                {"network": "t", "accounts": [
                  {"name": "adm-imp", "kind": "entity"},
                  {"name": "adm-imp-mm", "kind": "office", "parent": "adm-imp", "country": "\(country)"}
                ]}
                """
            try Data(json.utf8).write(to: file)
        }
        try write("mm")
        try await Self.ok(["account", "import", file.path, "--actor", "dora"])
        try await Self.ok(["account", "import", file.path, "--actor", "dora"])
        try write("bd")
        try await Self.ok(["account", "import", file.path, "--actor", "erin"])

        #expect(try await Self.events(account: "adm-imp").map { $0["kind"] as? String } == ["account.added"])
        let office = try await Self.events(account: "adm-imp-mm")
        #expect(office.map { $0["kind"] as? String } == ["account.added", "account.updated"])
        #expect(office.map { $0["actor"] as? String } == ["dora", "erin"])
        #expect(office.last?["reason"] as? String == "country mm -> bd")
        #expect(
            office.first?["reason"] as? String
                == "added office (parent adm-imp, country mm), role member, clearance internal"
        )
    }

    @Test func aclTokenConsumerAndDeadLetterChangesCarryTheActor() async throws {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        try Accounts().add(Account(name: "adm-ops", kind: .entity), on: connection)
        let message = NewMessage(topic: try Topic("adm-ops.x"), account: "adm-ops", headers: Headers(), payload: [1])
        let seq = try #require(try MessageLog().append([message], on: connection)).seqs[0]
        let settings = ConsumerSettings(pattern: try TopicPattern("adm-ops.>"), ackMode: .explicit, maxDeliver: 3)
        for name in ["c1", "c2"] {
            _ = try Consumers().open(
                account: "adm-ops",
                name: name,
                settings: settings,
                start: .all,
                reset: false,
                on: connection
            )
        }
        try Consumers().deadLetter(
            account: "adm-ops",
            name: "c1",
            seq: seq,
            topic: "adm-ops.x",
            deliveries: 3,
            reason: "max_deliver 3 reached",
            on: connection
        )
        let letter = try #require(
            try Consumers().deadLetters(account: "adm-ops", name: "c1", limit: 10, on: connection).first
        )

        let head = try MessageLog().headSeq(on: connection)
        let actor = ["--actor", "ops-frank"]
        try await Self.ok(["acl", "grant", "adm-ops", "sub", "hq.>"] + actor)
        try await Self.ok(["acl", "revoke", "adm-ops", "sub", "hq.>"] + actor)
        let token = try await CLIDatabase.run(["token", "issue", "adm-ops"] + actor)
        #expect(token.status == 0, "\(token)")
        try await Self.ok(["token", "revoke", "adm-ops", "--all"] + actor)
        try await Self.ok(["deadletter", "replay", String(letter.id)] + actor)
        try await Self.ok(["consumer", "reset", "adm-ops", "c2", "--to", "new"] + actor)
        try await Self.ok(["consumer", "delete", "adm-ops", "c2"] + actor)

        let events = try await Self.events(account: "adm-ops")
        #expect(
            events.map { $0["kind"] as? String } == [
                "acl.changed", "acl.changed", "token.issued", "token.revoked", "deadletter.replay", "consumer.reset",
                "consumer.deleted",
            ]
        )
        #expect(events.allSatisfy { $0["actor"] as? String == "ops-frank" }, "\(events)")
        #expect(events[5]["reason"] as? String == "consumer c2 ack floor 0 -> \(head) (--to new)")
        #expect(events[6]["reason"] as? String == "deleted consumer c2, ack floor was \(head)")
        #expect((events[4]["reason"] as? String)?.contains("dead letter \(letter.id), seq \(seq)") == true)
    }

    @Test func aFailedChangeRecordsNothing() async throws {
        let before = try await CLIDatabase.run(["audit", "events", "--json", "--actor", "gina"])
        #expect(before.lines.isEmpty)
        let missing = try await CLIDatabase.run(["account", "disable", "adm-nobody", "--actor", "gina"])
        #expect(missing.status == 1, "\(missing)")
        let duplicate = try await CLIDatabase.run(["account", "add", "adm-ops2", "--kind", "entity", "--actor", "gina"])
        #expect(duplicate.status == 0, "\(duplicate)")
        let again = try await CLIDatabase.run(["account", "add", "adm-ops2", "--kind", "entity", "--actor", "gina"])
        #expect(again.status == 1 && again.stderr.contains("already exists"), "\(again)")
        let after = try await CLIDatabase.run(["audit", "events", "--json", "--actor", "gina"])
        #expect(after.lines.count == 1, "\(after)")
    }

    @Test func anEmptyActorIsAUsageError() async throws {
        let result = try await CLIDatabase.run(["account", "disable", "x", "--actor", " "])
        #expect(result.status == 64 && result.stderr.contains("--actor must not be empty"), "\(result)")
    }

    /// An actor that could forge rows or colours in `audit events`, or swell every row of it.
    @Test(arguments: [
        ("evil\nTIME KIND fake", "control characters"), ("red\u{1B}[31m", "control characters"),
        ("tab\there", "control characters"), (String(repeating: "a", count: 129), "at most 128 characters"),
    ])
    func anActorThatCouldForgeTheTrailIsAUsageError(actor: String, message: String) async throws {
        let result = try await CLIDatabase.run(["account", "disable", "x", "--actor", actor])
        #expect(result.status == 64 && result.stderr.contains(message), "\(result)")
    }
}
