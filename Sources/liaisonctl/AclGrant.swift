import ArgumentParser
import LiaisonCore
import LiaisonStore
import Postgres

/// `liaisonctl acl grant`.
struct AclGrant: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grant",
        abstract: "Add an allow (or, with --deny, a deny) rule to an account; granting it again changes nothing."
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
                try AccessRules().grant(account: account, rule: rule, on: connection)
                return ((), [AdminChange(.aclChanged, account: account, reason: "granted \(rule)")])
            }
        }
        print("granted \(rule) to \(account)")
    }
}
