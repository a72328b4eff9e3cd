import Foundation
import LiaisonStore
import Postgres
import Testing

@Suite(.cliDatabase, .serialized)
struct TokenTests {
    init() async throws {
        let result = try await CLIDatabase.run(["account", "add", "tokenorg", "--kind", "entity"])
        // The suite shares one database, so every test after the first finds the account.
        #expect(result.status == 0 || result.stderr.contains("already exists"), "\(result)")
    }

    @Test func issuePrintsOnlyTheTokenAndStoresOnlyItsHash() async throws {
        let result = try await CLIDatabase.run(["token", "issue", "tokenorg", "--label", "field laptop"])
        #expect(result.status == 0, "\(result)")
        #expect(result.lines.count == 1)
        let token = try #require(result.lines.first)
        #expect(result.stdout == token + "\n")
        #expect(token.hasPrefix("lia_") && token.utf8.count == 47)

        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        let byHash = try connection.query(
            "SELECT label FROM credentials WHERE account = 'tokenorg' AND token_hash = $1",
            [Credentials.hash(token).postgresBind]
        )
        #expect(byHash.rowCount == 1)
        #expect(try byHash.decode(String.self, row: 0, column: 0) == "field laptop")
        let plain = try connection.query(
            "SELECT count(*) FROM credentials c WHERE strpos(row_to_json(c)::text, $1) > 0",
            [token.postgresBind]
        )
        #expect(try plain.decode(Int64.self, row: 0, column: 0) == 0)
        #expect(try Credentials().authenticate(account: "tokenorg", token: token, on: connection) != nil)
    }

    @Test func revokeOneThenAll() async throws {
        let first = try #require(try await CLIDatabase.run(["token", "issue", "tokenorg"]).lines.first)
        let second = try #require(
            try await CLIDatabase.run(["token", "issue", "tokenorg", "--expires-in-days", "30"]).lines.first
        )

        let one = try await CLIDatabase.run(["token", "revoke", "tokenorg", "--token", first])
        #expect(one.status == 0, "\(one)")
        #expect(one.lines == ["revoked 1 token of tokenorg"])

        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        #expect(try Credentials().authenticate(account: "tokenorg", token: first, on: connection) == nil)
        #expect(try Credentials().authenticate(account: "tokenorg", token: second, on: connection) != nil)

        let all = try await CLIDatabase.run(["token", "revoke", "tokenorg", "--all"])
        #expect(all.status == 0, "\(all)")
        #expect(try Credentials().authenticate(account: "tokenorg", token: second, on: connection) == nil)

        let again = try await CLIDatabase.run(["token", "revoke", "tokenorg", "--all"])
        #expect(again.status == 1)
        #expect(again.stderr == "liaisonctl: error: no live token matched for account 'tokenorg'\n")

        let list = try await CLIDatabase.run(["token", "list", "tokenorg"])
        #expect(list.status == 0)
        #expect(list.lines.first?.hasPrefix("ID  STATE") == true)
        #expect(!list.lines.dropFirst().isEmpty)
        #expect(list.lines.dropFirst().allSatisfy { $0.contains(" revoked ") })
        #expect(!list.stdout.contains(first) && !list.stdout.contains(second))
    }

    @Test(arguments: [
        (["token", "revoke", "tokenorg"], 64, "pass exactly one of --token <token> and --all"),
        (
            ["token", "revoke", "tokenorg", "--all", "--token", "x"], 64,
            "pass exactly one of --token <token> and --all"
        ),
        (["token", "issue", "tokenorg", "--expires-in-days", "0"], 64, "--expires-in-days must be at least 1"),
        (["token", "issue", "nobody"], 1, "no account named 'nobody'"),
    ])
    func badInput(arguments: [String], status: Int32, message: String) async throws {
        let result = try await CLIDatabase.run(arguments)
        #expect(result.status == status, "\(result)")
        #expect(result.stderr.hasPrefix("liaisonctl: error: \(message)"), "\(result)")
    }
}
