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

    @Option(help: ArgumentHelp("Only messages published by this account.", valueName: "name"))
    var account: String?

    @Option(
        help: ArgumentHelp(
            "Only topics this pattern selects, e.g. 'field.*.*.early-warning' or 'hq.>'.",
            valueName: "pattern"
        )
    )
    var topic: String?

    @Option(
        help: ArgumentHelp("Published at or after this RFC 3339 time, e.g. 2025-03-01T00:00:00Z.", valueName: "time")
    )
    var since: String?

    @Option(help: ArgumentHelp("Published before this RFC 3339 time.", valueName: "time"))
    var until: String?

    @Option(help: ArgumentHelp("Only seq >= N.", valueName: "n"))
    var fromSeq: Int64?

    @Option(help: ArgumentHelp("Only seq <= N.", valueName: "n"))
    var toSeq: Int64?

    @Option(
        name: .customLong("class"),
        help: ArgumentHelp(
            "Only messages of this class: public, internal (also when absent), confidential, strictly-confidential.",
            valueName: "level"
        )
    )
    var classification: Classification?

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
        var query = MessageQuery(limit: self.limit, newestFirst: self.newestFirst)
        query.account = self.account
        if let topic = self.topic {
            do {
                query.pattern = try TopicPattern(topic)
            } catch {
                throw ValidationError("--topic: \(error.message)")
            }
        }
        query.since = try self.since.map { try Self.time($0, "--since") }
        query.until = try self.until.map { try Self.time($0, "--until") }
        query.fromSeq = self.fromSeq
        query.toSeq = self.toSeq
        query.classification = self.classification
        return query
    }

    private static func time(_ text: String, _ option: String) throws -> Date {
        guard let date = RFC3339.parse(text) else {
            throw ValidationError("\(option) must be an RFC 3339 time such as 2025-03-01T12:00:00Z, got '\(text)'")
        }
        return date
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

    /// The message as the JSON Lines format writes it.
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
