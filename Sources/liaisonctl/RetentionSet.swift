import ArgumentParser
import LiaisonCore
import LiaisonStore

/// `liaisonctl retention set PATTERN --keep-days N` or `--remove`.
struct RetentionSet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Keep the messages of a topic pattern for N days, or remove its policy.",
        discussion: """
            Recorded in the audit trail (retention.set / retention.removed) with the actor. Setting \
            a pattern that has a policy changes its keep; the next purge pass applies it.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var actor: ActorOption

    @Argument(
        help: ArgumentHelp(
            "The topic pattern, e.g. 'field.>' ('>' is the default for every topic).",
            valueName: "pattern"
        )
    )
    var pattern: String

    @Option(
        name: .customLong("keep-days"),
        help: ArgumentHelp("Keep messages this many days after their publication (1-36500).", valueName: "days")
    )
    var keepDays: Int?

    @Flag(help: "Remove the pattern's policy (its topics are then kept for ever unless another policy matches).")
    var remove = false

    func validate() throws {
        _ = try RetentionCommand.pattern(self.pattern)
        switch (self.keepDays, self.remove) {
        case (nil, false): throw ValidationError("pass --keep-days N or --remove")
        case (.some, true): throw ValidationError("--keep-days and --remove exclude each other")
        case (let days?, false) where !(1...RetentionPolicy.maxKeepDays).contains(days):
            throw ValidationError("--keep-days must be 1 to \(RetentionPolicy.maxKeepDays)")
        default: break
        }
    }

    func run() async throws {
        let pattern = try RetentionCommand.pattern(self.pattern)
        let audit = self.actor.audit
        if self.remove {
            let days = try await self.database.run { connection in
                try Retention().removePolicy(pattern, audit: audit, on: connection)
            }
            print("removed the policy of \(pattern.value) (it kept \(days) days)")
            return
        }
        let days = self.keepDays ?? 0
        let previous = try await self.database.run { connection in
            try Retention().setPolicy(pattern, keepDays: days, audit: audit, on: connection)
        }
        print("\(pattern.value): keep \(days) days" + (previous.map { " (was \($0) days)" } ?? ""))
    }
}
