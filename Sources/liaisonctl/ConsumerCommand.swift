import ArgumentParser

/// `liaisonctl consumer`: the durable consumers (`SUB … durable=<name>`) the daemon keeps.
struct ConsumerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consumer",
        abstract: "List, show, reset and delete durable consumers.",
        subcommands: [ConsumerList.self, ConsumerShow.self, ConsumerReset.self, ConsumerDelete.self]
    )
}
