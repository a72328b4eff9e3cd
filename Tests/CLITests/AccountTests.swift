import Foundation
import Testing

@Suite(.cliDatabase, .serialized)
struct AccountTests {
    /// The accounts of `config/network.json`, as JSON objects.
    private static func networkAccounts() throws -> [[String: Any]] {
        let data = try Data(contentsOf: CLI.packageRoot.appendingPathComponent("config/network.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(root["accounts"] as? [[String: Any]])
    }

    private static func listJSON() async throws -> [[String: Any]] {
        let result = try await CLIDatabase.run(["account", "list", "--json"])
        #expect(result.status == 0, "\(result)")
        return try result.lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    @Test func addListDisableEnable() async throws {
        let entity = try await CLIDatabase.run([
            "account", "add", "testorg", "--kind", "entity", "--display-name", "Test Organisation",
        ])
        #expect(entity.status == 0, "\(entity)")
        #expect(entity.lines == ["added entity testorg"])
        let office = try await CLIDatabase.run([
            "account", "add", "testorg-mm-sittwe", "--kind", "office", "--parent", "testorg", "--country", "mm",
        ])
        #expect(office.status == 0, "\(office)")

        let table = try await CLIDatabase.run(["account", "list"])
        #expect(table.status == 0)
        let header = try #require(table.lines.first)
        #expect(
            header.split(separator: " ", omittingEmptySubsequences: true).prefix(7) == [
                "NAME", "KIND", "PARENT", "COUNTRY", "ROLE", "CLEARANCE", "ENABLED",
            ]
        )
        let row = try #require(table.lines.first { $0.hasPrefix("testorg-mm-sittwe ") })
        #expect(
            row.split(separator: " ", omittingEmptySubsequences: true) == [
                "testorg-mm-sittwe", "office", "testorg", "mm", "member", "internal", "yes",
            ]
        )

        let disabled = try await CLIDatabase.run(["account", "disable", "testorg-mm-sittwe"])
        #expect(disabled.status == 0, "\(disabled)")
        var json = try await Self.listJSON()
        var fieldOffice = try #require(json.first { $0["name"] as? String == "testorg-mm-sittwe" })
        #expect(fieldOffice["enabled"] as? Bool == false)
        #expect(fieldOffice["parent"] as? String == "testorg")
        #expect(fieldOffice["kind"] as? String == "office")

        let enabled = try await CLIDatabase.run(["account", "enable", "testorg-mm-sittwe"])
        #expect(enabled.status == 0, "\(enabled)")
        json = try await Self.listJSON()
        fieldOffice = try #require(json.first { $0["name"] as? String == "testorg-mm-sittwe" })
        #expect(fieldOffice["enabled"] as? Bool == true)
        let org = try #require(json.first { $0["name"] as? String == "testorg" })
        #expect(org["display_name"] as? String == "Test Organisation")
    }

    @Test func importNetworkFileInsertsThenFindsNothingChanged() async throws {
        let expected = try Self.networkAccounts()
        let entities = expected.filter { $0["kind"] as? String == "entity" }
        let offices = expected.filter { $0["kind"] as? String == "office" }
        #expect(entities.count >= 20)
        #expect(!offices.isEmpty)
        let file = CLI.packageRoot.appendingPathComponent("config/network.json").path

        let first = try await CLIDatabase.run(["account", "import", file])
        #expect(first.status == 0, "\(first)")
        #expect(first.lines == ["imported \(expected.count) accounts (\(expected.count) new, 0 updated, 0 unchanged)"])
        let second = try await CLIDatabase.run(["account", "import", file])
        #expect(second.lines == ["imported \(expected.count) accounts (0 new, 0 updated, \(expected.count) unchanged)"])

        let listed = try await Self.listJSON()
        for account in offices {
            let name = try #require(account["name"] as? String)
            let row = try #require(listed.first { $0["name"] as? String == name }, "office \(name) not listed")
            #expect(row["parent"] as? String == account["parent"] as? String)
            #expect(row["kind"] as? String == "office")
        }
        let entityNames = Set(listed.filter { $0["kind"] as? String == "entity" }.compactMap { $0["name"] as? String })
        #expect(entityNames.isSuperset(of: entities.compactMap { $0["name"] as? String }))
    }

    @Test func importCountsOnlyRealChanges() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("changed-network-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: file) }
        let write = { (accounts: String) in
            try Data(#"{"network":"t","accounts":[\#(accounts)]}"#.utf8).write(to: file)
        }
        let entity = #"{"name":"countorg","kind":"entity","display_name":"Count Org"}"#
        let office = #"{"name":"countorg-ba","kind":"office","parent":"countorg","country":"ba"}"#
        try write(entity + "," + office)
        let first = try await CLIDatabase.run(["account", "import", file.path])
        #expect(first.lines == ["imported 2 accounts (2 new, 0 updated, 0 unchanged)"], "\(first)")

        let renamed = #"{"name":"countorg","kind":"entity","display_name":"Count Organisation"}"#
        let added = #"{"name":"countorg-mm","kind":"office","parent":"countorg","country":"mm"}"#
        try write([renamed, office, added].joined(separator: ","))
        let second = try await CLIDatabase.run(["account", "import", file.path])
        #expect(second.lines == ["imported 3 accounts (1 new, 1 updated, 1 unchanged)"], "\(second)")
        let listed = try await Self.listJSON()
        #expect(
            listed.first { $0["name"] as? String == "countorg" }?["display_name"] as? String == "Count Organisation"
        )
        #expect(listed.contains { $0["name"] as? String == "countorg-mm" })
    }

    @Test(arguments: [
        (["account", "add", "x1", "--kind", "agency"], "'agency' is invalid for '--kind <kind>'"),
        (["account", "add", "Bad Name", "--kind", "entity"], "account name 'Bad Name' must match"),
        (["account", "add", "lonely-office", "--kind", "office"], "a field office needs --parent <entity>"),
        (["account", "add", "x2", "--kind", "entity", "--role", "owner"], "'owner' is invalid for '--role <role>'"),
    ])
    func usageErrorsExit64(arguments: [String], message: String) async throws {
        let result = try await CLIDatabase.run(arguments)
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.hasPrefix("liaisonctl: error: "), "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
        #expect(result.stdout.isEmpty)
    }

    @Test func storeErrorsExit1() async throws {
        _ = try await CLIDatabase.run(["account", "add", "dupe", "--kind", "entity"])
        let duplicate = try await CLIDatabase.run(["account", "add", "dupe", "--kind", "entity"])
        #expect(duplicate.status == 1)
        #expect(duplicate.stderr == "liaisonctl: error: account 'dupe' already exists\n")

        let orphan = try await CLIDatabase.run([
            "account", "add", "orphan-mm", "--kind", "office", "--parent", "nobody",
        ])
        #expect(orphan.status == 1)
        #expect(orphan.stderr == "liaisonctl: error: parent account 'nobody' does not exist\n")

        let unknown = try await CLIDatabase.run(["account", "disable", "nobody"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "liaisonctl: error: no account named 'nobody'\n")
    }

    @Test func importOfABadFileChangesNothing() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-network-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(
            #"{"network":"t","accounts":[{"name":"okay","kind":"entity"},{"name":"weird","kind":"agency"}]}"#.utf8
        ).write(to: file)
        let result = try await CLIDatabase.run(["account", "import", file.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("account 'weird': kind must be entity or office, got 'agency'"), "\(result)")
        let listed = try await Self.listJSON()
        #expect(!listed.contains { $0["name"] as? String == "okay" })
    }
}
