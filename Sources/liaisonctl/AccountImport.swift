import ArgumentParser
import LiaisonStore

/// `liaisonctl account import`.
struct AccountImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Add or update the accounts of a network file such as config/network.json.",
        discussion: """
            The file is { "network": "...", "accounts": [ {name, kind, parent?, country?, role?, display_name?} ] }. \
            All changed accounts are written in one transaction: one bad entry changes nothing. Prints how many \
            accounts were new, updated and unchanged; unchanged ones are not written.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The JSON file.")
    var file: String

    func run() async throws {
        let accounts = try NetworkFile.load(path: self.file).makeAccounts()
        let (inserted, updated) = try await self.database.run { connection -> (inserted: Int, updated: Int) in
            // The store's upsert counts every existing account as updated, so compare first and
            // write only what is new or differs.
            let current = Dictionary(
                try Accounts().list(on: connection).map { ($0.name, $0) },
                uniquingKeysWith: { first, _ in first }
            )
            let changed = accounts.filter { account in
                current[account.name].map { !Self.sameImportedFields($0, account) } ?? true
            }
            if changed.isEmpty { return (inserted: 0, updated: 0) }
            return try Accounts().importAll(changed, on: connection)
        }
        let unchanged = accounts.count - inserted - updated
        print("imported \(accounts.count) accounts (\(inserted) new, \(updated) updated, \(unchanged) unchanged)")
    }

    /// Whether `stored` already has every field an import writes (clearance, rules and whether
    /// the account is enabled are never changed by an import).
    private static func sameImportedFields(_ stored: Account, _ imported: Account) -> Bool {
        stored.kind == imported.kind && stored.parent == imported.parent && stored.country == imported.country
            && stored.role == imported.role && stored.displayName == imported.displayName
    }
}
