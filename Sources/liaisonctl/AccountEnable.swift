import ArgumentParser
import LiaisonStore

/// `liaisonctl account enable`.
struct AccountEnable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Enable a disabled account: its tokens work again."
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The account name.")
    var name: String

    func run() async throws {
        let name = self.name
        try await self.database.run { connection in
            try Accounts().setEnabled(true, name: name, on: connection)
        }
        print("enabled \(name)")
    }
}
