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
            REMOTE is the client's host:port, or liaisonctl for admin commands; ACTOR is who made an \
            admin change (--actor, else the operating-system user), - for events about clients. \
            --export writes every matching event (no limit) as JSON Lines or CSV in constant memory, \
            with a progress line on standard error every 2 seconds.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Only events about this account.", valueName: "name"))
    var account: String?

    @Option(help: ArgumentHelp("Only events of this kind, e.g. auth.failed or acl.changed.", valueName: "kind"))
    var kind: String?

    @Option(help: ArgumentHelp("Only admin changes made by this actor.", valueName: "name"))
    var actor: String?

    @Option(
        help: ArgumentHelp("Only events at or after this RFC 3339 time, e.g. 2025-03-01T00:00:00Z.", valueName: "time")
    )
    var since: String?

    @Option(help: ArgumentHelp("At most N events (default 100; --export has no limit).", valueName: "n"))
    var limit: Int?

    @Flag(help: "Print JSON Lines (one object per event) instead of a table.")
    var json = false

    @Flag(help: "Export every matching event to --output or standard output, in --format (default jsonl).")
    var export = false

    @OptionGroup var exportOptions: ExportOptions

    func validate() throws {
        _ = try self.filters()
    }

    private func filters() throws -> (kind: SecurityEventKind?, since: Date?) {
        if let limit = self.limit, limit < 1 {
            throw ValidationError("--limit must be at least 1")
        }
        if self.export, self.limit != nil || self.json {
            throw ValidationError("--export writes every matching event in --format: drop --limit and --json")
        }
        if !self.export, self.exportOptions.isGiven {
            throw ValidationError("--format and --output go with --export")
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

    /// The keys of ``jsonObject(_:)``, in the column order of `--export --format csv`.
    static let jsonFields = ["id", "at", "kind", "account", "remote", "actor", "reason"]

    /// The event as JSON Lines and the export write it (keys: ``jsonFields``; absent values null).
    static func jsonObject(_ event: SecurityEvent) -> [String: Any] {
        [
            "id": event.id, "at": RFC3339.format(event.at), "kind": event.kind.rawValue,
            "account": event.account.map { $0 as Any } ?? NSNull(),
            "remote": event.remote.map { $0 as Any } ?? NSNull(), "reason": event.reason,
            "actor": event.actor.map { $0 as Any } ?? NSNull(),
        ]
    }

    func run() async throws {
        let (kind, since) = try self.filters()
        let account = self.account
        let actor = self.actor
        if self.export {
            try await self.exportOptions.run(
                database: self.database,
                columns: Self.jsonFields,
                noun: "events",
                positionName: "id"
            ) { connection, sink in
                try SecurityEvents().export(account: account, kind: kind, actor: actor, since: since, on: connection) {
                    try sink.write(page: $0, object: Self.jsonObject, position: \.id)
                }
            }
            return
        }
        let limit = self.limit ?? 100
        let events = try await self.database.run { connection in
            try SecurityEvents().list(
                account: account,
                kind: kind,
                actor: actor,
                since: since,
                limit: limit,
                on: connection
            )
        }
        if self.json {
            for event in events {
                print(JSONLine.encode(Self.jsonObject(event)))
            }
            return
        }
        var table = TextTable(["TIME", "KIND", "ACCOUNT", "REMOTE", "ACTOR", "REASON"])
        for event in events {
            table.append([
                RFC3339.format(event.at), event.kind.rawValue, event.account ?? "-", event.remote ?? "-",
                event.actor ?? "-", event.reason.isEmpty ? "-" : event.reason,
            ])
        }
        print(table.rendered)
    }
}
