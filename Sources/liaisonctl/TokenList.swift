import ArgumentParser
import Foundation
import LiaisonCore
import LiaisonStore

/// `liaisonctl token list`.
struct TokenList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List an account's tokens, newest first (never the tokens themselves)."
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The account.")
    var account: String

    func run() async throws {
        let account = self.account
        let infos = try await self.database.run { connection in
            try Credentials().list(account: account, on: connection)
        }
        var table = TextTable(["ID", "STATE", "CREATED", "EXPIRES", "REVOKED", "LABEL"])
        for info in infos {
            let state: String
            if info.revokedAt != nil {
                state = "revoked"
            } else if let expiresAt = info.expiresAt, expiresAt <= .now {
                state = "expired"
            } else {
                state = "live"
            }
            table.append([
                String(info.id), state, RFC3339.format(info.createdAt), info.expiresAt.map(RFC3339.format) ?? "-",
                info.revokedAt.map(RFC3339.format) ?? "-", info.label,
            ])
        }
        print(table.rendered)
    }
}
