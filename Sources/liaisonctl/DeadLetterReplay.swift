import ArgumentParser
import LiaisonStore

/// `liaisonctl deadletter replay`.
struct DeadLetterReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Ask the daemon to deliver a dead letter to its consumer once more.",
        discussion: """
            The daemon serving the consumer picks the request up and redelivers the message; \
            `deadletter list` then shows it as done. Replaying it again is allowed.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var actor: ActorOption

    @Argument(help: "The dead letter's id, as `deadletter list` shows it.")
    var id: Int64

    func run() async throws {
        let id = self.id
        let audit = self.actor.audit
        let letter = try await self.database.run { connection in
            try audit.perform(on: connection) { connection in
                let letter = try Consumers().requestReplay(id: id, on: connection)
                let reason = "replay requested: dead letter \(id), seq \(letter.seq) for consumer \(letter.consumer)"
                return (letter, [AdminChange(.deadLetterReplay, account: letter.account, reason: reason)])
            }
        }
        print(
            "replay requested: dead letter \(id), seq \(letter.seq) for consumer \(letter.consumer) of \(letter.account)"
        )
    }
}
