import ArgumentParser
import LiaisonStore
import Postgres

/// `liaisonctl token revoke`.
struct TokenRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke one token of an account (--token) or all of them (--all)."
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var actor: ActorOption

    @Argument(help: "The account.")
    var account: String

    @Option(help: ArgumentHelp("The token to revoke.", valueName: "token"))
    var token: String?

    @Flag(help: "Revoke every live token of the account.")
    var all = false

    func validate() throws {
        guard (self.token != nil) != self.all else {
            throw ValidationError("pass exactly one of --token <token> and --all")
        }
    }

    func run() async throws {
        let account = self.account
        let token = self.token
        let audit = self.actor.audit
        let count = try await self.database.run { connection in
            try audit.perform(on: connection) { connection in
                let count = try Credentials().revoke(account: account, token: token, on: connection)
                let reason = token == nil ? "all \(count) live tokens revoked" : "1 token revoked"
                return (count, [AdminChange(.tokenRevoked, account: account, reason: reason)])
            }
        }
        print("revoked \(count) token\(count == 1 ? "" : "s") of \(account)")
    }
}
