import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import Testing

/// Clearance in the CLI: `account add --clearance`, `account clearance`, and classification in `messages list`.
@Suite(.cliDatabase, .serialized)
struct AclClearanceTests {
    @Test func clearanceIsSetShownAndChanged() async throws {
        #expect(try await CLIDatabase.run(["account", "add", "clrorg", "--kind", "entity"]).status == 0)
        #expect(
            try await CLIDatabase.run(["account", "add", "clradmin", "--kind", "entity", "--role", "admin"]).status == 0
        )
        let set = try await CLIDatabase.run(["account", "add", "clrpub", "--kind", "entity", "--clearance", "public"])
        #expect(set.status == 0, "\(set)")

        let list = try await CLIDatabase.run(["account", "list", "--json"])
        let objects = try list.lines.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        func clearance(_ name: String) -> String? {
            objects.first { $0["name"] as? String == name }?["clearance"] as? String
        }
        #expect(clearance("clrorg") == "internal")
        #expect(clearance("clradmin") == "strictly-confidential")
        #expect(clearance("clrpub") == "public")

        let changed = try await CLIDatabase.run(["account", "clearance", "clrorg", "strictly-confidential"])
        #expect(changed.status == 0, "\(changed)")
        #expect(changed.lines == ["clearance of clrorg: internal -> strictly-confidential"])

        let bad = try await CLIDatabase.run(["account", "clearance", "clrorg", "secret"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("The value 'secret' is invalid for '<level>'"), "\(bad)")
        let ghost = try await CLIDatabase.run(["account", "clearance", "nobody", "public"])
        #expect(ghost.status == 1)
        #expect(ghost.stderr == "liaisonctl: error: no account named 'nobody'\n")
    }

    @Test func messagesListShowsAndFiltersClassification() async throws {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        var batch: [NewMessage] = []
        for level in Classification.allCases {
            var headers = Headers()
            if level != .internal { try headers.set("class", level.rawValue) }
            batch.append(
                NewMessage(topic: try Topic("hq.clr.\(level.rawValue)"), account: "clr", headers: headers, payload: [1])
            )
        }
        _ = try MessageLog().append(batch, on: connection)

        let table = try await CLIDatabase.run(["messages", "list", "--topic", "hq.clr.*"])
        #expect(table.status == 0, "\(table)")
        let classes = table.lines.dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true)[4] }
        #expect(classes == ["public", "internal", "confidential", "strictly-confidential"])

        let confidential = try await CLIDatabase.run([
            "messages", "list", "--class", "confidential", "--format", "jsonl",
        ])
        #expect(confidential.status == 0, "\(confidential)")
        #expect(confidential.lines.count == 1)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(confidential.lines[0].utf8)) as? [String: Any]
        )
        #expect(object["class"] as? String == "confidential")
        #expect(object["topic"] as? String == "hq.clr.confidential")

        let unmarked = try await CLIDatabase.run(["messages", "list", "--class", "internal"])
        #expect(unmarked.lines.dropFirst().map { $0.contains("hq.clr.internal") } == [true])
    }
}
