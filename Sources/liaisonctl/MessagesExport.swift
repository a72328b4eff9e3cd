import ArgumentParser
import LiaisonCore
import LiaisonStore

/// `liaisonctl messages export`.
struct MessagesExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export every message the filters select, as JSON Lines or CSV, in constant memory.",
        discussion: """
            The filters are those of `messages list`; there is no limit. Fields are those of \
            `messages list --format jsonl` (payload in base64, headers as a JSON object; in CSV the \
            headers column holds that object's JSON text). Messages are read through a server-side \
            cursor from one snapshot, oldest first (--newest-first reverses). A progress line goes to \
            standard error every 2 seconds. A reader that stops early (`| head`) ends the export \
            quietly with status 0.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var filters: MessageFilterOptions

    @OptionGroup var export: ExportOptions

    @Flag(help: "Newest first instead of oldest first.")
    var newestFirst = false

    func validate() throws {
        _ = try self.filters.makeQuery()
    }

    func run() async throws {
        var filters = try self.filters.makeQuery()
        filters.newestFirst = self.newestFirst
        let query = filters
        try await self.export.run(
            database: self.database,
            columns: MessagesList.jsonFields,
            noun: "messages",
            positionName: "seq"
        ) { connection, sink in
            try MessageLog().export(query, on: connection) { page in
                try sink.write(page: page, object: MessagesList.jsonObject, position: \.seq)
            }
        }
    }
}
