public import ArgumentParser
public import LiaisonCore
import LiaisonStore
import Postgres

/// `liaisonctl account clearance`.
struct AccountClearance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clearance",
        abstract: "Set the most sensitive message class an account may read or publish.",
        discussion: """
            Levels, least to most sensitive: public, internal, confidential, strictly-confidential. \
            Live connections of the account follow within a second.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var actor: ActorOption

    @Argument(help: "The account name.")
    var name: String

    @Argument(help: ArgumentHelp("public, internal, confidential or strictly-confidential.", valueName: "level"))
    var level: Classification

    func run() async throws {
        let name = self.name
        let level = self.level
        let audit = self.actor.audit
        let previous = try await self.database.run { connection in
            try audit.perform(on: connection) { connection in
                let previous = try Accounts().setClearance(level, name: name, on: connection)
                let reason = "clearance \(previous.rawValue) -> \(level.rawValue)"
                return (previous, [AdminChange(.clearanceChanged, account: name, reason: reason)])
            }
        }
        print("clearance of \(name): \(previous.rawValue) -> \(level.rawValue)")
    }
}

extension Classification: ExpressibleByArgument {}
