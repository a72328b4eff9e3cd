import ArgumentParser
import Foundation
import LiaisonCore
import LiaisonStore
import Postgres

/// `liaisonctl token issue`.
struct TokenIssue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue a token and print it alone on standard output.",
        discussion: "Only the token's SHA-256 is stored: it cannot be shown again."
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var actor: ActorOption

    @Argument(help: "The account the token is for.")
    var account: String

    @Option(help: ArgumentHelp("Free text shown by `token list`, e.g. \"field laptop\".", valueName: "text"))
    var label: String = ""

    @Option(help: ArgumentHelp("Days until the token stops working (default: never).", valueName: "days"))
    var expiresInDays: Int?

    func validate() throws {
        if let days = self.expiresInDays, days < 1 {
            throw ValidationError("--expires-in-days must be at least 1")
        }
    }

    func run() async throws {
        let account = self.account
        let label = self.label
        let expiresAt = self.expiresInDays.map { Date(timeIntervalSinceNow: Double($0) * 86_400) }
        let audit = self.actor.audit
        let token = try await self.database.run { connection in
            try audit.perform(on: connection) { connection in
                let token = try Credentials().issue(for: account, label: label, expiresAt: expiresAt, on: connection)
                var reason = label.isEmpty ? "token issued" : "token '\(label)' issued"
                if let expiresAt {
                    reason += ", expires \(RFC3339.format(expiresAt))"
                }
                return (token, [AdminChange(.tokenIssued, account: account, reason: reason)])
            }
        }
        print(token)
    }
}
