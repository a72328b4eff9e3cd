import ArgumentParser
import Foundation
import LiaisonCore
import LiaisonStore

/// `liaisonctl deadletter list`.
struct DeadLetterList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List dead letters, oldest first."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Only this account's consumers.", valueName: "name"))
    var account: String?

    @Option(help: ArgumentHelp("Only consumers with this durable name.", valueName: "name"))
    var consumer: String?

    @Option(help: ArgumentHelp("At most N dead letters.", valueName: "n"))
    var limit: Int = 100

    @Flag(help: "Print JSON Lines (one object per dead letter) instead of a table.")
    var json = false

    func validate() throws {
        guard self.limit >= 1 else {
            throw ValidationError("--limit must be at least 1")
        }
    }

    func run() async throws {
        let account = self.account
        let consumer = self.consumer
        let limit = self.limit
        let letters = try await self.database.run { connection in
            try Consumers().deadLetters(account: account, name: consumer, limit: limit, on: connection)
        }
        if self.json {
            for letter in letters {
                print(JSONLine.encode(Self.jsonObject(letter)))
            }
            return
        }
        var table = TextTable([
            "ID", "ACCOUNT", "CONSUMER", "SEQ", "TOPIC", "DELIVERIES", "CREATED", "REPLAY", "REASON",
        ])
        for letter in letters {
            table.append([
                String(letter.id), letter.account, letter.consumer, String(letter.seq), letter.topic,
                String(letter.deliveries), RFC3339.format(letter.createdAt), Self.replayState(letter), letter.reason,
            ])
        }
        print(table.rendered)
    }

    /// `-` when never asked, `requested` while the daemon has not taken it, else `done`.
    static func replayState(_ letter: DeadLetter) -> String {
        if letter.replayedAt != nil { return "done" }
        return letter.replayRequestedAt == nil ? "-" : "requested"
    }

    /// The dead letter as the JSON Lines format writes it.
    static func jsonObject(_ letter: DeadLetter) -> [String: Any] {
        [
            "id": letter.id, "account": letter.account, "consumer": letter.consumer, "seq": letter.seq,
            "topic": letter.topic, "deliveries": letter.deliveries, "reason": letter.reason,
            "created_at": RFC3339.format(letter.createdAt),
            "replay_requested_at": letter.replayRequestedAt.map { RFC3339.format($0) as Any } ?? NSNull(),
            "replayed_at": letter.replayedAt.map { RFC3339.format($0) as Any } ?? NSNull(),
        ]
    }
}
