import ArgumentParser
import Foundation
import LiaisonCore
import LiaisonStore

/// `liaisonctl receipts`: who received and acknowledged a message, or which entitled accounts
/// have not acknowledged the messages of a topic since a time (docs/AUDIT.md, "Receipts").
struct ReceiptsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipts",
        abstract: "Who received and acknowledged a message; who has not.",
        discussion: """
            With SEQ: one row per account that is entitled to the message or received it: its \
            status (acknowledged, delivered, pending), when it was delivered and acknowledged (no \
            later than; precise to receipts.flushMs), whether it is entitled (enabled, not an admin, \
            not the publisher, its rules and clearance let it read the message) and through which \
            durable consumers or connections. With --pending: per message of --topic published in \
            [--since, --until), the entitled accounts that have not acknowledged it. Reads the \
            database (the audit_receipts and audit_pending views).
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("The message's seq.", valueName: "seq"))
    var seq: Int64?

    @Flag(help: "List, per message, the entitled accounts that have not acknowledged it.")
    var pending = false

    @Option(help: ArgumentHelp("With --pending: messages whose topic this pattern matches.", valueName: "pattern"))
    var topic: String = ">"

    @Option(help: ArgumentHelp("With --pending: published at or after this RFC 3339 time.", valueName: "time"))
    var since: String?

    @Option(help: ArgumentHelp("With --pending: published before this RFC 3339 time.", valueName: "time"))
    var until: String?

    @Option(
        help: ArgumentHelp("With --pending: only messages of this prio (flash, urgent, routine).", valueName: "prio")
    )
    var prio: String?

    @Option(help: ArgumentHelp("With --pending: at most N rows.", valueName: "n"))
    var limit: Int = 10_000

    @Flag(help: "Print JSON Lines (one object per row) instead of a table.")
    var json = false

    func validate() throws {
        if self.pending {
            guard self.seq == nil else { throw ValidationError("give either SEQ or --pending, not both") }
            _ = try self.pendingFilters()
        } else {
            guard let seq = self.seq else { throw ValidationError("give a SEQ, or --pending --since TIME") }
            guard seq >= 1 else { throw ValidationError("SEQ must be at least 1, got \(seq)") }
            // Filters of the listing would otherwise be ignored without a word.
            guard self.topic == ">", self.since == nil, self.until == nil, self.prio == nil, self.limit == 10_000 else {
                throw ValidationError("--topic, --since, --until, --prio and --limit go with --pending, not with a SEQ")
            }
        }
    }

    private func pendingFilters() throws -> (pattern: TopicPattern, since: Date, until: Date?, prio: Priority?) {
        guard self.limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        guard let pattern = try? TopicPattern(self.topic) else {
            throw ValidationError("--topic must be a topic pattern such as field.mm.> , got '\(self.topic)'")
        }
        guard let sinceText = self.since else { throw ValidationError("--pending needs --since TIME") }
        let since = try Self.time(sinceText, "--since")
        let until = try self.until.map { try Self.time($0, "--until") }
        var prio: Priority?
        if let text = self.prio {
            guard let parsed = Priority(rawValue: text) else {
                throw ValidationError("--prio must be flash, urgent or routine, got '\(text)'")
            }
            prio = parsed
        }
        return (pattern, since, until, prio)
    }

    private static func time(_ text: String, _ option: String) throws -> Date {
        guard let parsed = RFC3339.parse(text) else {
            throw ValidationError("\(option) must be an RFC 3339 time such as 2026-12-01T00:00:00Z, got '\(text)'")
        }
        return parsed
    }

    func run() async throws {
        if self.pending { return try await self.listPending() }
        guard let seq = self.seq else { return }
        guard let report = try await self.database.run({ try Receipts().report(seq: seq, on: $0) }) else {
            throw CLIFailure("no message with seq \(seq)")
        }
        if self.json {
            for receipt in report.recipients {
                print(
                    JSONLine.encode([
                        "seq": report.seq, "topic": report.topic, "publisher": report.publisher,
                        "published_at": RFC3339.format(report.publishedAt), "prio": report.priority,
                        "class": report.classification, "account": receipt.account, "status": receipt.status,
                        "entitled": receipt.entitled, "delivered_at": Self.json(receipt.deliveredAt),
                        "acked_at": Self.json(receipt.ackedAt), "via": receipt.via,
                    ])
                )
            }
            return
        }
        print(
            "seq \(report.seq) \(report.topic) from \(report.publisher) at \(RFC3339.format(report.publishedAt)) (\(report.priority), \(report.classification))"
        )
        var table = TextTable(["ACCOUNT", "STATUS", "DELIVERED", "ACKED", "ENTITLED", "VIA"])
        for receipt in report.recipients {
            table.append([
                receipt.account, receipt.status, Self.text(receipt.deliveredAt), Self.text(receipt.ackedAt),
                receipt.entitled ? "yes" : "no", receipt.via.isEmpty ? "-" : receipt.via.joined(separator: ","),
            ])
        }
        print(table.rendered)
    }

    private func listPending() async throws {
        let filters = try self.pendingFilters()
        let limit = self.limit
        let rows = try await self.database.run { connection in
            try Receipts().pending(
                matching: filters.pattern,
                since: filters.since,
                until: filters.until,
                priority: filters.prio,
                limit: limit,
                on: connection
            )
        }
        if self.json {
            for row in rows {
                print(
                    JSONLine.encode([
                        "seq": row.seq, "topic": row.topic, "publisher": row.publisher,
                        "published_at": RFC3339.format(row.publishedAt), "prio": row.priority, "account": row.account,
                        "delivered_at": Self.json(row.deliveredAt),
                    ])
                )
            }
            return
        }
        var table = TextTable(["SEQ", "TOPIC", "PRIO", "PUBLISHED", "ACCOUNT", "DELIVERED"])
        for row in rows {
            table.append([
                "\(row.seq)", row.topic, row.priority, RFC3339.format(row.publishedAt), row.account,
                Self.text(row.deliveredAt),
            ])
        }
        print(table.rendered)
    }

    private static func text(_ date: Date?) -> String { date.map(RFC3339.format) ?? "-" }

    private static func json(_ date: Date?) -> Any { date.map { RFC3339.format($0) as Any } ?? NSNull() }
}
