import ArgumentParser
import LiaisonStore

/// `liaisonctl account import`.
struct AccountImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Add or update the accounts of a network file such as config/network.json.",
        discussion: """
            The file is { "network": "...", "accounts": [ {name, kind, parent?, country?, role?, display_name?} ] }. \
            All accounts are written in one transaction: one bad entry changes nothing.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The JSON file.")
    var file: String

    func run() async throws {
        let accounts = try NetworkFile.load(path: self.file).makeAccounts()
        let (inserted, updated) = try await self.database.run { connection in
            try Accounts().importAll(accounts, on: connection)
        }
        print("imported \(accounts.count) accounts (\(inserted) new, \(updated) updated)")
    }
}
