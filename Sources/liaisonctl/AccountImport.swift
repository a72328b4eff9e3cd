import ArgumentParser
import LiaisonCore
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

    @OptionGroup var actor: ActorOption

    @Argument(help: "The JSON file.")
    var file: String

    func run() async throws {
        let accounts = try NetworkFile.load(path: self.file).makeAccounts()
        let audit = self.actor.audit
        let (inserted, updated) = try await self.database.run { connection -> (inserted: Int, updated: Int) in
            // One transaction for the comparison, the writes and one event per account created or
            // changed. The store's upsert counts every existing account as updated, so compare
            // first and write only what is new or differs.
            try audit.perform(on: connection) { connection in
                let current = Dictionary(
                    try Accounts().list(on: connection).map { ($0.name, $0) },
                    uniquingKeysWith: { first, _ in first }
                )
                let changes = accounts.compactMap { account -> AdminChange? in
                    guard let stored = current[account.name] else {
                        return AdminChange(
                            .accountAdded,
                            account: account.name,
                            reason: AccountAdd.description(account)
                        )
                    }
                    let differences = Self.differences(stored, account)
                    if differences.isEmpty { return nil }
                    return AdminChange(
                        .accountUpdated,
                        account: account.name,
                        reason: differences.joined(separator: ", ")
                    )
                }
                if changes.isEmpty { return ((inserted: 0, updated: 0), []) }
                let changed = Set(changes.compactMap(\.account))
                let counts = try Accounts().importAll(accounts.filter { changed.contains($0.name) }, on: connection)
                return (counts, changes)
            }
        }
        let unchanged = accounts.count - inserted - updated
        print("imported \(accounts.count) accounts (\(inserted) new, \(updated) updated, \(unchanged) unchanged)")
    }

    /// The fields an import writes that differ, as `field old -> new` (clearance, rules and whether
    /// the account is enabled are never changed by an import); empty when it is unchanged.
    static func differences(_ stored: Account, _ imported: Account) -> [String] {
        func field(_ name: String, _ old: String?, _ new: String?) -> String? {
            old == new ? nil : "\(name) \(old ?? "-") -> \(new ?? "-")"
        }
        return [
            field("kind", stored.kind.rawValue, imported.kind.rawValue),
            field("parent", stored.parent, imported.parent),
            field("country", stored.country, imported.country),
            field("role", stored.role.rawValue, imported.role.rawValue),
            field("display name", "'\(stored.displayName)'", "'\(imported.displayName)'"),
        ].compactMap { $0 }
    }
}
