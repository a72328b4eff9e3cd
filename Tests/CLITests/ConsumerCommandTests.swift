import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import Testing

/// `liaisonctl consumer …` and `liaisonctl deadletter …` against consumers seeded through the store.
///
/// The suite shares one database: every test uses its own account and topic prefix.
@Suite(.cliDatabase, .serialized)
struct ConsumerCommandTests {
    /// What a test seeded: the account and the seqs of its messages `<prefix>.hq.a`, `<prefix>.hq.b`,
    /// `<prefix>.field.c`, published in that order.
    struct Seeded {
        var account: String
        var seqs: [Int64]
        var times: [Date]
    }

    /// Adds an account and three messages under the topic prefix `account`.
    private func seed(_ account: String) throws -> Seeded {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        try Accounts().add(Account(name: account, kind: .entity), on: connection)
        var seqs: [Int64] = []
        var times: [Date] = []
        for suffix in ["hq.a", "hq.b", "field.c"] {
            let message = NewMessage(
                topic: try Topic("\(account).\(suffix)"),
                account: account,
                headers: Headers(),
                payload: Array(suffix.utf8)
            )
            let appended = try #require(try MessageLog().append([message], on: connection))
            seqs.append(appended.seqs[0])
            times.append(appended.publishedAt)
        }
        return Seeded(account: account, seqs: seqs, times: times)
    }

    /// Opens a consumer from the start of the log.
    @discardableResult
    private func open(
        _ seeded: Seeded,
        _ name: String,
        pattern: String,
        ack: AckMode = .explicit
    ) throws -> ConsumerInfo {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        return try Consumers().open(
            account: seeded.account,
            name: name,
            settings: ConsumerSettings(pattern: try TopicPattern(pattern), ackMode: ack, maxDeliver: 3),
            start: .all,
            reset: false,
            on: connection
        )
    }

    /// Dead-letters message `index` of `seeded` for the consumer, as the daemon does after `max_deliver`.
    private func deadLetter(_ seeded: Seeded, _ name: String, index: Int) throws {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        try Consumers().deadLetter(
            account: seeded.account,
            name: name,
            seq: seeded.seqs[index],
            topic: "t\(index)",
            deliveries: 3,
            reason: "max_deliver 3 reached",
            on: connection
        )
    }

    private func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        return try body(connection)
    }

    private func json(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func listShowsPositionAndPendingAsATableAndAsJSON() async throws {
        let s = try seed("list-org")
        try open(s, "hq", pattern: "list-org.hq.>")
        try open(s, "all", pattern: "list-org.>", ack: .auto)
        try withConnection { c in
            try Consumers().record(
                [ConsumerProgress(account: s.account, name: "hq", ackFloor: s.seqs[0], deliveredSeq: s.seqs[1])],
                on: c
            )
        }

        let table = try await CLIDatabase.run(["consumer", "list", "--account", s.account])
        #expect(table.status == 0, "\(table)")
        #expect(table.lines.count == 3, "\(table)")
        let header = table.lines[0].split(separator: " ").map(String.init)
        #expect(
            header == [
                "ACCOUNT", "NAME", "PATTERN", "ACK", "WAIT_MS", "MAX_DELIVER", "MAX_INFLIGHT", "ACK_FLOOR",
                "DELIVERED", "PENDING", "LAST_ACK", "LAST_DELIVERY",
            ]
        )
        let all = table.lines[1].split(separator: " ").map(String.init)
        #expect(all == ["list-org", "all", "list-org.>", "auto", "30000", "3", "1000", "0", "0", "3", "-", "-"])
        let hq = table.lines[2].split(separator: " ").map(String.init)
        #expect(
            Array(hq.prefix(10)) == [
                "list-org", "hq", "list-org.hq.>", "explicit", "30000", "3", "1000", String(s.seqs[0]),
                String(s.seqs[1]), "1",
            ]
        )
        #expect(hq.count == 12 && RFC3339.parse(hq[10]) != nil && RFC3339.parse(hq[11]) != nil, "\(hq)")

        let lines = try await CLIDatabase.run(["consumer", "list", "--account", s.account, "--json"])
        #expect(lines.status == 0, "\(lines)")
        #expect(lines.lines.count == 2)
        let object = try json(lines.lines[1])
        #expect(object["name"] as? String == "hq")
        #expect(object["pattern"] as? String == "list-org.hq.>")
        #expect(object["ack_mode"] as? String == "explicit")
        #expect(object["ack_floor"] as? Int64 == s.seqs[0])
        #expect(object["delivered_seq"] as? Int64 == s.seqs[1])
        #expect(object["pending"] as? Int == 1)
        #expect((object["last_ack_at"] as? String).flatMap(RFC3339.parse) != nil)
        #expect(try json(lines.lines[0])["last_ack_at"] is NSNull)

        let none = try await CLIDatabase.run(["consumer", "list", "--account", "nobody"])
        #expect(none.status == 0)
        #expect(none.lines.count == 1)
    }

    @Test func showPrintsEveryFieldAndTheDeadLetterCount() async throws {
        let s = try seed("show-org")
        try open(s, "hq", pattern: "show-org.hq.>")
        try deadLetter(s, "hq", index: 0)
        let result = try await CLIDatabase.run(["consumer", "show", s.account, "hq"])
        #expect(result.status == 0, "\(result)")
        let fields = Dictionary(
            uniqueKeysWithValues: result.lines.map { line in
                let parts = line.split(separator: ":", maxSplits: 1)
                return (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces))
            }
        )
        #expect(fields["account"] == "show-org")
        #expect(fields["name"] == "hq")
        #expect(fields["pattern"] == "show-org.hq.>")
        #expect(fields["ack"] == "explicit")
        #expect(fields["ack wait"] == "30000 ms")
        #expect(fields["max deliver"] == "3")
        #expect(fields["max inflight"] == "1000")
        #expect(fields["ack floor"] == "0")
        #expect(fields["delivered"] == "0")
        #expect(fields["pending"] == "2")
        #expect(fields["last ack"] == "-")
        #expect(fields["last delivery"] == "-")
        #expect(fields["created"].flatMap(RFC3339.parse) != nil)
        #expect(fields["dead letters"] == "1")

        let json = try await CLIDatabase.run(["consumer", "show", s.account, "hq", "--json"])
        #expect(json.status == 0, "\(json)")
        let object = try self.json(json.stdout.trimmingCharacters(in: .newlines))
        #expect(object["dead_letters"] as? Int == 1)
        #expect(object["pending"] as? Int == 2)

        let missing = try await CLIDatabase.run(["consumer", "show", s.account, "nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "liaisonctl: error: no durable consumer nope for account show-org\n")
    }

    @Test func resetMovesTheAckFloorToEachKindOfPosition() async throws {
        let s = try seed("reset-org")
        try open(s, "d", pattern: "reset-org.>")
        let cases: [(String, Int64)] = [
            ("new", s.seqs[2]), ("all", 0), (String(s.seqs[1]), s.seqs[1] - 1),
            (RFC3339.format(s.times[2]), s.seqs[2] - 1), ("0", 0),
        ]
        for (position, floor) in cases {
            let result = try await CLIDatabase.run(["consumer", "reset", s.account, "d", "--to", position])
            #expect(result.status == 0, "\(result)")
            #expect(result.lines == ["reset consumer d of reset-org to ack floor \(floor)"])
            let info = try withConnection { c in try Consumers().find(account: s.account, name: "d", on: c) }
            #expect(info?.ackFloor == floor, "--to \(position)")
            #expect(info?.deliveredSeq == floor, "--to \(position)")
        }
        let missing = try await CLIDatabase.run(["consumer", "reset", s.account, "nope", "--to", "all"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "liaisonctl: error: no durable consumer nope for account reset-org\n")
    }

    @Test func deleteRemovesTheConsumerAndItsDeadLetters() async throws {
        let s = try seed("delete-org")
        try open(s, "d", pattern: "delete-org.>")
        try deadLetter(s, "d", index: 0)
        let result = try await CLIDatabase.run(["consumer", "delete", s.account, "d"])
        #expect(result.status == 0, "\(result)")
        #expect(result.lines == ["deleted consumer d of delete-org"])
        let (found, letters) = try withConnection { c in
            (
                try Consumers().find(account: s.account, name: "d", on: c),
                try Consumers().deadLetters(account: s.account, name: nil, limit: 10, on: c)
            )
        }
        #expect(found == nil)
        #expect(letters.isEmpty)
        let again = try await CLIDatabase.run(["consumer", "delete", s.account, "d"])
        #expect(again.status == 1)
        #expect(again.stderr == "liaisonctl: error: no durable consumer d for account delete-org\n")
    }

    @Test func deadLettersAreListedAndReplayedOnRequest() async throws {
        let s = try seed("dead-org")
        try open(s, "a", pattern: "dead-org.>")
        try open(s, "b", pattern: "dead-org.hq.>")
        for (name, index) in [("a", 0), ("b", 1), ("a", 2)] {
            try deadLetter(s, name, index: index)
        }
        let table = try await CLIDatabase.run(["deadletter", "list", "--account", s.account])
        #expect(table.status == 0, "\(table)")
        #expect(
            table.lines.first?.split(separator: " ").map(String.init) == [
                "ID", "ACCOUNT", "CONSUMER", "SEQ", "TOPIC", "DELIVERIES", "CREATED", "REPLAY", "REASON",
            ]
        )
        #expect(table.lines.count == 4)
        let first = table.lines[1].split(separator: " ").map(String.init)
        #expect(first[1...5] == ["dead-org", "a", String(s.seqs[0]), "t0", "3"])
        #expect(first[7...] == ["-", "max_deliver", "3", "reached"])

        let onlyA = try await CLIDatabase.run([
            "deadletter", "list", "--account", s.account, "--consumer", "a", "--json",
        ])
        #expect(onlyA.status == 0, "\(onlyA)")
        let objects = try onlyA.lines.map(json)
        #expect(objects.map { $0["seq"] as? Int64 } == [s.seqs[0], s.seqs[2]])
        #expect(objects.allSatisfy { $0["replay_requested_at"] is NSNull && $0["reason"] as? String != nil })
        let limited = try await CLIDatabase.run(["deadletter", "list", "--account", s.account, "--limit", "1"])
        #expect(limited.lines.count == 2)

        let id = try #require(objects[1]["id"] as? Int64)
        let replay = try await CLIDatabase.run(["deadletter", "replay", String(id)])
        #expect(replay.status == 0, "\(replay)")
        #expect(replay.lines == ["replay requested: dead letter \(id), seq \(s.seqs[2]) for consumer a of dead-org"])
        let after = try await CLIDatabase.run(["deadletter", "list", "--account", s.account, "--consumer", "a"])
        #expect(after.lines.last?.contains(" requested ") == true, "\(after)")
        // What the daemon does next: it takes the replay, and the listing says it is done.
        let taken = try withConnection { c in try Consumers().takeReplays(account: s.account, name: "a", on: c) }
        #expect(taken == [s.seqs[2]])
        let done = try await CLIDatabase.run(["deadletter", "list", "--account", s.account, "--consumer", "a"])
        #expect(done.lines.last?.contains(" done ") == true, "\(done)")
    }

    @Test(arguments: [
        (["consumer", "reset", "x", "d", "--to", "yesterday"], 64, "--to must be new, all, a seq >= 1 or an RFC 3339"),
        (["consumer", "reset", "x", "d", "--to=-4"], 64, "--to must be new, all, a seq >= 1 or an RFC 3339"),
        (["consumer", "reset", "x", "d"], 64, "Missing expected argument '--to <position>'"),
        (["consumer", "show", "x"], 64, "Missing expected argument '<name>'"),
        (["deadletter", "list", "--limit", "0"], 64, "--limit must be at least 1"),
        (["deadletter", "replay", "seven"], 64, "The value 'seven' is invalid for '<id>'"),
        (["deadletter", "replay", "987654"], 1, "no dead letter with id 987654"),
    ])
    func badInput(arguments: [String], status: Int32, message: String) async throws {
        let result = try await CLIDatabase.run(arguments)
        #expect(result.status == status, "\(result)")
        #expect(result.stderr.hasPrefix("liaisonctl: error: \(message)"), "\(result)")
    }
}
