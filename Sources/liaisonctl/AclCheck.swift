import ArgumentParser
import Foundation
import LiaisonCore
import LiaisonStore

/// `liaisonctl acl check`.
struct AclCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Say whether an account may publish to a topic or subscribe with a pattern, and why.",
        discussion: """
            Prints `allowed: <reason>` and exits 0, or `denied: <reason>` and exits 1, so scripts can \
            test it. pub takes a topic; sub takes a pattern (a topic is a pattern without wildcards) \
            and applies the SUB rule: within one allow pattern, overlapping no deny pattern. \
            Clearance is not involved: it applies per message (see `account list`).
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The account name.")
    var account: String

    @Argument(help: ArgumentHelp("pub or sub.", valueName: "pub|sub"))
    var action: AccessAction

    @Argument(help: ArgumentHelp("A topic (pub) or a pattern (sub).", valueName: "topic-or-pattern"))
    var target: String

    func validate() throws {
        _ = try self.parsedTarget()
    }

    private func parsedTarget() throws -> TopicPattern {
        do {
            switch self.action {
            case .publish:
                return try TopicPattern(try Topic(self.target).value)
            case .subscribe:
                return try TopicPattern(self.target)
            }
        } catch {
            let what = self.action == .publish ? "a topic (no wildcards) for pub" : "a pattern"
            throw ValidationError("<topic-or-pattern> must be \(what): \(error.message)")
        }
    }

    func run() async throws {
        let account = self.account
        let target = try self.parsedTarget()
        let permissions = try await self.database.run { connection in
            try AccessRules().permissions(account: account, on: connection)
        }
        guard let permissions else {
            throw StoreError(.notFound, "no account named '\(account)'")
        }
        let decision: AccessDecision
        switch self.action {
        case .publish:
            decision = permissions.decide(publish: try Topic(target.value))
        case .subscribe:
            decision = permissions.decide(subscribe: target)
        }
        guard decision.allowed else {
            // Written unbuffered because exit(1) skips the flush of `print`'s buffer.
            FileHandle.standardOutput.write(Data((decision.description + "\n").utf8))
            Foundation.exit(1)
        }
        print(decision.description)
    }
}
