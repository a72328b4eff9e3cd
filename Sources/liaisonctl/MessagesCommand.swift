import ArgumentParser

/// `liaisonctl messages`: audit the message log.
struct MessagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messages",
        abstract: "Audit the message log.",
        subcommands: [MessagesList.self, MessagesExport.self]
    )
}
