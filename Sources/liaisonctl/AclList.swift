import ArgumentParser
import LiaisonCore
import LiaisonStore

/// `liaisonctl acl list`.
struct AclList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the rules of one account, or of every account, by account, action, effect and pattern."
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "Only this account's rules.")
    var account: String?

    @Flag(help: "Print JSON Lines ({account, action, effect, pattern}) instead of a table.")
    var json = false

    func run() async throws {
        let account = self.account
        let rows = try await self.database.run { connection in
            if let account, try Accounts().find(account, on: connection) == nil {
                throw StoreError(.notFound, "no account named '\(account)'")
            }
            return try AccessRules().list(account: account, on: connection).map { ($0.account, $0.rule) }
        }
        if self.json {
            for (name, rule) in rows {
                print(
                    JSONLine.encode([
                        "account": name, "action": rule.action.rawValue, "effect": rule.effect.rawValue,
                        "pattern": rule.pattern.value,
                    ])
                )
            }
            return
        }
        var table = TextTable(["ACCOUNT", "ACTION", "EFFECT", "PATTERN"])
        for (name, rule) in rows {
            table.append([name, rule.action.rawValue, rule.effect.rawValue, rule.pattern.value])
        }
        print(table.rendered)
    }
}
