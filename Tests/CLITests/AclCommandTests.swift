import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import Testing

/// `liaisonctl acl grant|revoke|list|check`, run as a user would, against one migrated database.
@Suite(.cliDatabase, .serialized)
struct AclCommandTests {
    init() async throws {
        for arguments in [
            ["account", "add", "aclorg", "--kind", "entity"],
            ["account", "add", "aclorg-mm", "--kind", "office", "--parent", "aclorg", "--country", "mm"],
        ] {
            let result = try await CLIDatabase.run(arguments)
            // The suite shares one database, so every test after the first finds the accounts.
            #expect(result.status == 0 || result.stderr.contains("already exists"), "\(result)")
        }
    }

    private static func check(_ account: String, _ action: String, _ target: String) async throws -> CLIResult {
        try await CLIDatabase.run(["acl", "check", account, action, target])
    }

    @Test func newAccountsHaveTheDocumentedDefaults() async throws {
        let result = try await CLIDatabase.run(["acl", "list", "aclorg-mm"])
        #expect(result.status == 0, "\(result)")
        #expect(
            result.lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") } == [
                "ACCOUNT ACTION EFFECT PATTERN",
                "aclorg-mm pub allow field.mm.>",
                "aclorg-mm sub allow field.mm.>",
                "aclorg-mm sub allow hq.>",
                "aclorg-mm sub allow net.>",
            ]
        )
        let json = try await CLIDatabase.run(["acl", "list", "aclorg", "--json"])
        #expect(json.status == 0, "\(json)")
        let objects = try json.lines.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String])
        }
        #expect(objects.contains(["account": "aclorg", "action": "pub", "effect": "allow", "pattern": "hq.aclorg.>"]))
        #expect(objects.allSatisfy { $0["account"] == "aclorg" })
    }

    @Test func checkSaysWhyAndExitsOneWhenDenied() async throws {
        let allowed = try await Self.check("aclorg-mm", "sub", "field.mm.*.early-warning")
        #expect(allowed.status == 0, "\(allowed)")
        #expect(allowed.lines == ["allowed: pattern field.mm.*.early-warning is within allow sub field.mm.>"])

        let wider = try await Self.check("aclorg-mm", "sub", "field.>")
        #expect(wider.status == 1, "\(wider)")
        #expect(wider.lines == ["denied: pattern field.> is not within any allow sub rule"])
        #expect(wider.stderr.isEmpty)

        let publish = try await Self.check("aclorg-mm", "pub", "hq.aclorg.news")
        #expect(publish.status == 1)
        #expect(publish.lines == ["denied: topic hq.aclorg.news is not matched by any allow pub rule"])

        let wildcard = try await Self.check("aclorg-mm", "pub", "field.mm.>")
        #expect(wildcard.status == 64)
        #expect(wildcard.stderr.contains("must be a topic (no wildcards) for pub"))

        let ghost = try await Self.check("nobody", "pub", "hq.x")
        #expect(ghost.status == 1)
        #expect(ghost.stderr == "liaisonctl: error: no account named 'nobody'\n")
    }

    @Test func grantAndRevokeChangeDecisionsAndAreAudited() async throws {
        let deny = ["aclorg", "sub", "field.mm.protection.>", "--deny"]
        let granted = try await CLIDatabase.run(["acl", "grant"] + deny)
        #expect(granted.status == 0, "\(granted)")
        #expect(granted.lines == ["granted deny sub field.mm.protection.> to aclorg"])
        let again = try await CLIDatabase.run(["acl", "grant"] + deny)
        #expect(again.status == 0, "granting twice is not an error: \(again)")

        let refused = try await Self.check("aclorg", "sub", "field.mm.>")
        #expect(refused.status == 1)
        #expect(refused.lines == ["denied: pattern field.mm.> overlaps deny sub field.mm.protection.>"])
        #expect(try await Self.check("aclorg", "sub", "field.mm.sittwe.>").status == 0)

        let revoked = try await CLIDatabase.run(["acl", "revoke"] + deny)
        #expect(revoked.status == 0, "\(revoked)")
        #expect(revoked.lines == ["revoked deny sub field.mm.protection.> from aclorg"])
        #expect(try await Self.check("aclorg", "sub", "field.mm.>").status == 0)

        let missing = try await CLIDatabase.run(["acl", "revoke"] + deny)
        #expect(missing.status == 1)
        #expect(missing.stderr == "liaisonctl: error: account 'aclorg' has no rule 'deny sub field.mm.protection.>'\n")

        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        let events = try SecurityEvents().list(
            account: "aclorg",
            kind: .aclChanged,
            since: nil,
            limit: 10,
            on: connection
        )
        #expect(
            Array(events.map(\.reason).prefix(3)) == [
                "revoked deny sub field.mm.protection.>", "granted deny sub field.mm.protection.>",
                "granted deny sub field.mm.protection.>",
            ]
        )
        #expect(events.allSatisfy { $0.remote == "liaisonctl" })
    }

    @Test(arguments: [
        (["acl", "grant", "aclorg", "pub", "hq..x"], 64, "<pattern>: pattern \"hq..x\" has an empty token"),
        (["acl", "grant", "aclorg", "publish", "hq.>"], 64, "The value 'publish' is invalid for '<pub|sub>'"),
        (["acl", "grant", "nobody", "pub", "hq.>"], 1, "no account named 'nobody'"),
        (["acl", "list", "nobody"], 1, "no account named 'nobody'"),
        (["acl", "check", "aclorg", "sub"], 64, "Missing expected argument '<topic-or-pattern>'"),
    ])
    func badInputGetsAClearError(arguments: [String], status: Int32, message: String) async throws {
        let result = try await CLIDatabase.run(arguments)
        #expect(result.status == status, "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
    }
}
