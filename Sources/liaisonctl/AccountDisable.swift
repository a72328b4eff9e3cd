import ArgumentParser
import LiaisonStore

/// `liaisonctl account disable`.
struct AccountDisable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Disable an account: it can no longer authenticate; its history stays."
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var actor: ActorOption

    @Argument(help: "The account name.")
    var name: String

    func run() async throws {
        let name = self.name
        try await AccountToggle.set(
            enabled: false,
            name: name,
            kind: .accountDisabled,
            database: self.database,
            actor: self.actor
        )
        print("disabled \(name)")
    }
}
