import ArgumentParser
import Foundation
import LiaisonCore
import LiaisonStore

/// `liaisonctl audit events`.
struct AuditEvents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "List security events, newest first.",
        discussion: """
            Kinds: \(SecurityEventKind.allCases.map(\.rawValue).joined(separator: ", ")). \
            REMOTE is the client's host:port, or liaisonctl for admin commands.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Only events about this account.", valueName: "name"))
    var account: String?

    @Option(help: ArgumentHelp("Only events of this kind, e.g. auth.failed or acl.changed.", valueName: "kind"))
    var kind: String?

    @Option(
        help: ArgumentHelp("Only events at or after this RFC 3339 time, e.g. 2025-03-01T00:00:00Z.", valueName: "time")
    )
    var since: String?

    @Option(help: ArgumentHelp("At most N events.", valueName: "n"))
    var limit: Int = 100

    @Flag(help: "Print JSON Lines (one object per event) instead of a table.")
    var json = false

    func validate() throws {
        _ = try self.filters()
    }

    private func filters() throws -> (kind: SecurityEventKind?, since: Date?) {
        guard self.limit >= 1 else {
            throw ValidationError("--limit must be at least 1")
        }
        var kind: SecurityEventKind?
        if let text = self.kind {
            guard let parsed = SecurityEventKind(rawValue: text) else {
                let known = SecurityEventKind.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("--kind must be one of \(known), got '\(text)'")
            }
            kind = parsed
        }
        var since: Date?
        if let text = self.since {
            guard let parsed = RFC3339.parse(text) else {
                throw ValidationError("--since must be an RFC 3339 time such as 2025-03-01T12:00:00Z, got '\(text)'")
            }
            since = parsed
        }
        return (kind, since)
    }

    func run() async throws {
        let (kind, since) = try self.filters()
        let account = self.account
        let limit = self.limit
        let events = try await self.database.run { connection in
            try SecurityEvents().list(account: account, kind: kind, since: since, limit: limit, on: connection)
        }
        if self.json {
            for event in events {
                print(
                    JSONLine.encode([
                        "id": event.id, "at": RFC3339.format(event.at), "kind": event.kind.rawValue,
                        "account": event.account.map { $0 as Any } ?? NSNull(),
                        "remote": event.remote.map { $0 as Any } ?? NSNull(), "reason": event.reason,
                    ])
                )
            }
            return
        }
        var table = TextTable(["TIME", "KIND", "ACCOUNT", "REMOTE", "REASON"])
        for event in events {
            table.append([
                RFC3339.format(event.at), event.kind.rawValue, event.account ?? "-", event.remote ?? "-",
                event.reason.isEmpty ? "-" : event.reason,
            ])
        }
        print(table.rendered)
    }
}
