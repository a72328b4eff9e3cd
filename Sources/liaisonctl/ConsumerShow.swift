import ArgumentParser
import LiaisonCore
import LiaisonStore

/// `liaisonctl consumer show`.
struct ConsumerShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one durable consumer: settings, position, pending and dead letter counts."
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var consumer: ConsumerName

    @Flag(help: "Print one JSON object instead of labelled lines.")
    var json = false

    func run() async throws {
        let account = self.consumer.account
        let name = self.consumer.name
        let found = try await self.database.run { connection -> (ConsumerInfo, Int64, Int64)? in
            let consumers = Consumers()
            guard let info = try consumers.find(account: account, name: name, on: connection) else { return nil }
            return (
                info, try consumers.pendingCount(info, on: connection),
                try consumers.deadLetterCount(account: account, name: name, on: connection)
            )
        }
        guard let (info, pending, deadLetters) = found else {
            throw CLIFailure("no durable consumer \(name) for account \(account)")
        }
        if self.json {
            var object = info.jsonObject(pending: pending)
            object["dead_letters"] = deadLetters
            print(JSONLine.encode(object))
            return
        }
        let settings = info.settings
        let fields: [(String, String)] = [
            ("account", info.account), ("name", info.name), ("pattern", settings.pattern.value),
            ("ack", settings.ackMode.rawValue), ("ack wait", "\(settings.ackWaitMilliseconds) ms"),
            ("max deliver", String(settings.maxDeliver)), ("max inflight", String(settings.maxInflight)),
            ("ack floor", String(info.ackFloor)), ("delivered", String(info.deliveredSeq)),
            ("pending", String(pending)), ("last ack", ConsumerInfo.cell(info.lastAckAt)),
            ("last delivery", ConsumerInfo.cell(info.lastDeliveryAt)), ("created", RFC3339.format(info.createdAt)),
            ("dead letters", String(deadLetters)),
        ]
        let width = fields.map(\.0.count).max() ?? 0
        for (label, value) in fields {
            print(label + ":" + String(repeating: " ", count: width - label.count + 2) + value)
        }
    }
}
