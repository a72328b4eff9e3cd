import ArgumentParser

/// `liaisonctl deadletter`: messages durable consumers gave up on after `max_deliver` deliveries.
struct DeadLetterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadletter",
        abstract: "List dead letters and replay them to their consumers.",
        subcommands: [DeadLetterList.self, DeadLetterReplay.self]
    )
}
