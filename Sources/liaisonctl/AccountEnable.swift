import ArgumentParser
import LiaisonStore

/// `liaisonctl account enable`.
struct AccountEnable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Enable a disabled account: its tokens work again."
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var actor: ActorOption

    @Argument(help: "The account name.")
    var name: String

    func run() async throws {
        let name = self.name
        try await AccountToggle.set(
            enabled: true,
            name: name,
            kind: .accountEnabled,
            database: self.database,
            actor: self.actor
        )
        print("enabled \(name)")
    }
}
