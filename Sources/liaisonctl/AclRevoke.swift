import ArgumentParser
import LiaisonCore
import LiaisonStore
import Postgres

/// `liaisonctl acl revoke`.
struct AclRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Remove an allow (or, with --deny, a deny) rule from an account.",
        discussion: "Fails when the account has no such rule; `acl list <account>` shows the rules it has."
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var actor: ActorOption

    @OptionGroup var arguments: AclRuleArguments

    func run() async throws {
        let account = self.arguments.account
        let rule = try self.arguments.rule()
        let audit = self.actor.audit
        try await self.database.run { connection in
            try audit.perform(on: connection) { connection in
                try AccessRules().revoke(account: account, rule: rule, on: connection)
                return ((), [AdminChange(.aclChanged, account: account, reason: "revoked \(rule)")])
            }
        }
        print("revoked \(rule) from \(account)")
    }
}
