import ArgumentParser
import Foundation
import LiaisonCore
import LiaisonStore

/// `liaisonctl messages list`.
struct MessagesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List messages from the log, filtered by account, topic pattern, time and seq."
    )

    /// The output formats.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table
        case jsonl
    }

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var filters: MessageFilterOptions

    @Option(help: ArgumentHelp("At most N messages.", valueName: "n"))
    var limit: Int = 100

    @Flag(help: "Newest first instead of oldest first.")
    var newestFirst = false

    @Option(help: "table (for people) or jsonl (one JSON object per line, payload in base64).")
    var format: Format = .table

    @Flag(help: "Add a PAYLOAD column with the payload's printable characters (table format).")
    var payload = false

    func validate() throws {
        _ = try self.makeQuery()
    }

    private func makeQuery() throws -> MessageQuery {
        guard self.limit >= 1 else {
            throw ValidationError("--limit must be at least 1")
        }
        var query = try self.filters.makeQuery()
        query.limit = self.limit
        query.newestFirst = self.newestFirst
        return query
    }

    func run() async throws {
        let query = try self.makeQuery()
        let messages = try await self.database.run { connection in
            try MessageLog().list(query, on: connection)
        }
        switch self.format {
        case .jsonl:
            for message in messages {
                print(JSONLine.encode(Self.jsonObject(message)))
            }
        case .table:
            var header = ["SEQ", "PUBLISHED", "ACCOUNT", "TOPIC", "CLASS", "SIZE", "HEADERS"]
            if self.payload {
                header.append("PAYLOAD")
            }
            var table = TextTable(header)
            for message in messages {
                var row = [
                    String(message.seq), RFC3339.format(message.publishedAt), message.account, message.topic.value,
                    Self.classText(message), String(message.payload.count),
                    message.headers.isEmpty ? "-" : message.headers.wireText,
                ]
                if self.payload {
                    row.append(Self.preview(message.payload))
                }
                table.append(row)
            }
            print(table.rendered)
        }
    }

    /// The keys of ``jsonObject(_:)``, in the column order of `messages export --format csv`.
    static let jsonFields = ["seq", "published_at", "account", "topic", "class", "size", "headers", "payload_base64"]

    /// The message as the JSON Lines format writes it (keys: ``jsonFields``).
    static func jsonObject(_ message: Message) -> [String: Any] {
        var headers: [String: Any] = [:]
        for (key, value) in message.headers {
            headers[key] = value
        }
        return [
            "seq": message.seq, "topic": message.topic.value, "account": message.account,
            "published_at": RFC3339.format(message.publishedAt), "headers": headers, "class": Self.classText(message),
            "size": message.payload.count, "payload_base64": Data(message.payload).base64EncodedString(),
        ]
    }

    /// The message's `class`, `internal` when it has none (as delivery treats it).
    static func classText(_ message: Message) -> String {
        message.headers["class"] ?? Classification.internal.rawValue
    }

    /// Up to 60 characters of the payload on one line (``PrintableText/line(_:maxCharacters:)``).
    static func preview(_ payload: [UInt8]) -> String {
        PrintableText.line(payload, maxCharacters: 60)
    }
}
