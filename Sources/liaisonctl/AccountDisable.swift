import ArgumentParser
import LiaisonStore

/// `liaisonctl account disable`.
struct AccountDisable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Disable an account: it can no longer authenticate; its history stays."
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The account name.")
    var name: String

    func run() async throws {
        let name = self.name
        try await self.database.run { connection in
            try Accounts().setEnabled(false, name: name, on: connection)
        }
        print("disabled \(name)")
    }
}
