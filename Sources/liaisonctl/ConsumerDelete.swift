import ArgumentParser
import LiaisonStore

/// `liaisonctl consumer delete`.
struct ConsumerDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a durable consumer and its dead letters; a later SUB with its name starts afresh."
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var consumer: ConsumerName

    func run() async throws {
        let account = self.consumer.account
        let name = self.consumer.name
        try await self.database.run { connection in
            try Consumers().delete(account: account, name: name, on: connection)
        }
        print("deleted consumer \(name) of \(account)")
    }
}
