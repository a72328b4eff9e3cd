import ArgumentParser
import LiaisonStore

/// `liaisonctl retention release ID`.
struct RetentionRelease: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Release a legal hold (its messages fall under the policies again).",
        discussion:
            "Recorded in the audit trail (retention.release) with the actor; the hold stays listed with --released."
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var actor: ActorOption

    @Argument(help: ArgumentHelp("The hold's id, from `retention hold` or `retention list`.", valueName: "id"))
    var id: Int64

    func run() async throws {
        let id = self.id
        let audit = self.actor.audit
        let hold = try await self.database.run { connection in
            try Retention().releaseHold(id, audit: audit, on: connection)
        }
        print("hold \(hold.id) on \(hold.scope) released")
    }
}
