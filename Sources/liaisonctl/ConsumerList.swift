import ArgumentParser
import LiaisonCore
import LiaisonStore

/// `liaisonctl consumer list`.
struct ConsumerList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List durable consumers with their position and pending count, by account and name."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Only this account's consumers.", valueName: "name"))
    var account: String?

    @Flag(help: "Print JSON Lines (one object per consumer) instead of a table.")
    var json = false

    func run() async throws {
        let account = self.account
        let rows = try await self.database.run { connection in
            let consumers = Consumers()
            return try consumers.list(account: account, on: connection).map { info in
                (info, try consumers.pendingCount(info, on: connection))
            }
        }
        if self.json {
            for (info, pending) in rows {
                print(JSONLine.encode(info.jsonObject(pending: pending)))
            }
            return
        }
        var table = TextTable([
            "ACCOUNT", "NAME", "PATTERN", "ACK", "WAIT_MS", "MAX_DELIVER", "MAX_INFLIGHT", "ACK_FLOOR", "DELIVERED",
            "PENDING", "LAST_ACK", "LAST_DELIVERY",
        ])
        for (info, pending) in rows {
            let settings = info.settings
            table.append([
                info.account, info.name, settings.pattern.value, settings.ackMode.rawValue,
                String(settings.ackWaitMilliseconds), String(settings.maxDeliver), String(settings.maxInflight),
                String(info.ackFloor), String(info.deliveredSeq), String(pending), ConsumerInfo.cell(info.lastAckAt),
                ConsumerInfo.cell(info.lastDeliveryAt),
            ])
        }
        print(table.rendered)
    }
}
