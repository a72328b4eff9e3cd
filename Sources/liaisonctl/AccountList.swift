import ArgumentParser
import Foundation
import LiaisonCore
import LiaisonStore

/// `liaisonctl account list`.
struct AccountList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List accounts, entities first, each followed by its field offices."
    )

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Print JSON Lines (one object per account) instead of a table.")
    var json = false

    func run() async throws {
        let accounts = try await self.database.run { connection in
            try Accounts().list(on: connection)
        }
        if self.json {
            for account in accounts {
                var object: [String: Any] = [
                    "name": account.name, "kind": account.kind.rawValue, "role": account.role.rawValue,
                    "display_name": account.displayName, "enabled": account.enabled,
                    "clearance": account.clearance.rawValue,
                    "parent": account.parent.map { $0 as Any } ?? NSNull(),
                    "country": account.country.map { $0 as Any } ?? NSNull(),
                ]
                if let createdAt = account.createdAt {
                    object["created_at"] = RFC3339.format(createdAt)
                }
                print(JSONLine.encode(object))
            }
            return
        }
        var table = TextTable(["NAME", "KIND", "PARENT", "COUNTRY", "ROLE", "CLEARANCE", "ENABLED", "DISPLAY NAME"])
        for account in accounts {
            table.append([
                account.name, account.kind.rawValue, account.parent ?? "-", account.country ?? "-",
                account.role.rawValue, account.clearance.rawValue, account.enabled ? "yes" : "no", account.displayName,
            ])
        }
        print(table.rendered)
    }
}
