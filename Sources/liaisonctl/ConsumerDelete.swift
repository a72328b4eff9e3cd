import ArgumentParser
import LiaisonStore

/// `liaisonctl consumer delete`.
struct ConsumerDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a durable consumer and its dead letters; a later SUB with its name starts afresh."
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var actor: ActorOption

    @OptionGroup var consumer: ConsumerName

    func run() async throws {
        let account = self.consumer.account
        let name = self.consumer.name
        let audit = self.actor.audit
        try await self.database.run { connection in
            try audit.perform(on: connection) { connection in
                let before = try Consumers().find(account: account, name: name, on: connection)
                try Consumers().delete(account: account, name: name, on: connection)
                let floor = before.map { ", ack floor was \($0.ackFloor)" } ?? ""
                return (
                    (), [AdminChange(.consumerDeleted, account: account, reason: "deleted consumer \(name)\(floor)")]
                )
            }
        }
        print("deleted consumer \(name) of \(account)")
    }
}
