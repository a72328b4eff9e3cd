import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import Testing

/// `liaisonctl audit events`, and the events that admin commands record.
@Suite(.cliDatabase, .serialized)
struct AuditEventsTests {
    init() async throws {
        let result = try await CLIDatabase.run(["account", "add", "auditorg", "--kind", "entity"])
        #expect(result.status == 0 || result.stderr.contains("already exists"), "\(result)")
    }

    private static func events(_ arguments: [String]) async throws -> [[String: Any]] {
        let result = try await CLIDatabase.run(["audit", "events", "--json"] + arguments)
        #expect(result.status == 0, "\(result)")
        return try result.lines.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func adminCommandsRecordEventsListedNewestFirst() async throws {
        let token = try #require(
            try await CLIDatabase.run(["token", "issue", "auditorg", "--label", "laptop"]).lines.first
        )
        #expect(try await CLIDatabase.run(["token", "revoke", "auditorg", "--token", token]).status == 0)
        #expect(try await CLIDatabase.run(["account", "clearance", "auditorg", "confidential"]).status == 0)

        let events = Array(try await Self.events(["--account", "auditorg"]).prefix(3))
        #expect(events.map { $0["kind"] as? String } == ["clearance.changed", "token.revoked", "token.issued"])
        #expect(
            events.map { $0["reason"] as? String } == [
                "clearance internal -> confidential", "1 token revoked", "token 'laptop' issued",
            ]
        )
        // No --actor: the operating-system user the commands ran as.
        let user = ProcessInfo.processInfo.environment["SUDO_USER"] ?? NSUserName()
        #expect(events.allSatisfy { $0["actor"] as? String == user }, "\(events)")
        #expect(events.allSatisfy { $0["remote"] as? String == "liaisonctl" && $0["account"] as? String == "auditorg" })
        #expect(events.allSatisfy { RFC3339.parse($0["at"] as? String ?? "") != nil })
        #expect(!token.isEmpty && !events.contains { ($0["reason"] as? String ?? "").contains(token) })
    }

    @Test func filtersByKindTimeAndLimit() async throws {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        try SecurityEvents().record(
            [
                (kind: .authFailed, account: "auditorg", remote: "192.0.2.1:40000", reason: "wrong token"),
                (kind: .publishRefused, account: "auditorg", remote: "192.0.2.1:40001", reason: "topic hq.x"),
            ],
            on: connection
        )
        let failed = try await Self.events(["--kind", "auth.failed"])
        #expect(failed.count == 1)
        #expect(failed.first?["remote"] as? String == "192.0.2.1:40000")
        #expect(try await Self.events(["--limit", "1"]).count == 1)
        #expect(try await Self.events(["--since", "2999-01-01T00:00:00Z"]).isEmpty)

        let table = try await CLIDatabase.run(["audit", "events", "--kind", "pub.refused"])
        #expect(table.status == 0, "\(table)")
        #expect(
            table.lines.first?.split(separator: " ", omittingEmptySubsequences: true) == [
                "TIME", "KIND", "ACCOUNT", "REMOTE", "ACTOR", "REASON",
            ]
        )
        let row = try #require(table.lines.dropFirst().first).split(separator: " ", omittingEmptySubsequences: true)
        #expect(Array(row.dropFirst()) == ["pub.refused", "auditorg", "192.0.2.1:40001", "-", "topic", "hq.x"])
    }

    @Test(arguments: [
        (["--kind", "auth.maybe"], "--kind must be one of auth.ok, auth.failed"),
        (["--since", "yesterday"], "--since must be an RFC 3339 time"),
        (["--limit", "0"], "--limit must be at least 1"),
    ])
    func badFiltersAreUsageErrors(arguments: [String], message: String) async throws {
        let result = try await CLIDatabase.run(["audit", "events"] + arguments)
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
    }
}
