import Foundation
import LiaisonStore
import Postgres
import Testing

/// `liaisonctl messages export` and `liaisonctl audit events --export`: what the listings show,
/// without their limit, as JSON Lines or RFC 4180 CSV, with progress on standard error.
@Suite(.cliDatabase, .serialized)
struct ExportTests {
    /// More than `messages list`'s default limit of 100, and more than 64 KiB of JSON Lines (a
    /// pipe's buffer), so a reader that stops early makes the writer meet EPIPE.
    private static let messageCount = 260

    init() throws {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        guard try MessageLog().headSeq(on: connection) == 0 else { return }
        // Every third message is flash; every fifth confidential; payloads of 700 bytes with a
        // comma, a quote and a newline; two accounts and two topics.
        try connection.query(
            """
            INSERT INTO messages (seq, topic, account, published_at, headers, payload)
            SELECT g,
                   CASE WHEN g % 2 = 0 THEN 'field.mm.sittwe.report' ELSE 'hq.ohchr.note' END,
                   CASE WHEN g % 2 = 0 THEN 'unhcr-mm-sittwe' ELSE 'ohchr' END,
                   timestamptz '2026-01-01 00:00:00Z' + g * interval '1 second',
                   jsonb_strip_nulls(jsonb_build_object(
                       'prio', CASE WHEN g % 3 = 0 THEN 'flash' END,
                       'class', CASE WHEN g % 5 = 0 THEN 'confidential' END)),
                   convert_to(repeat('x', 680) || ', "q"' || chr(10) || g, 'UTF8')
            FROM generate_series(1, $1::int) g
            """,
            [Int64(Self.messageCount).postgresBind]
        )
    }

    private static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> CLIResult {
        let result = try await CLIDatabase.run(arguments, environment: environment)
        #expect(result.status == 0, "\(result)")
        return result
    }

    @Test func messagesExportEqualsTheListingWithoutItsLimit() async throws {
        let export = try await Self.run(["messages", "export"])
        #expect(export.lines.count == Self.messageCount)
        let listing = try await Self.run(["messages", "list", "--format", "jsonl", "--limit", "100000"])
        #expect(export.stdout == listing.stdout)
        #expect(export.stderr.isEmpty, "a short export prints no progress: \(export.stderr)")
        let newest = try await Self.run(["messages", "export", "--newest-first"])
        #expect(newest.lines == export.lines.reversed())
    }

    @Test(arguments: [
        ["--topic", "field.>"], ["--account", "ohchr"], ["--from-seq", "20", "--to-seq", "130"],
        ["--since", "2026-01-01T00:01:00Z", "--until", "2026-01-01T00:02:00Z"], ["--class", "confidential"],
    ])
    func filtersAreTheListings(filter: [String]) async throws {
        let export = try await Self.run(["messages", "export"] + filter)
        let listing = try await Self.run(["messages", "list", "--format", "jsonl", "--limit", "100000"] + filter)
        #expect(!export.lines.isEmpty && export.lines.count < Self.messageCount)
        #expect(export.stdout == listing.stdout)
    }

    @Test func csvHasAHeaderRowAndQuotesCommasQuotesAndNewlines() async throws {
        let csv = try await Self.run(["messages", "export", "--format", "csv", "--to-seq", "6"])
        let records = try Self.parseCSV(csv.stdout)
        #expect(
            records.first == ["seq", "published_at", "account", "topic", "class", "size", "headers", "payload_base64"]
        )
        let json = try await Self.run(["messages", "export", "--to-seq", "6"])
        let objects = try json.lines.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(records.count == 7)
        for (record, object) in zip(records.dropFirst(), objects) {
            #expect(record[0] == "\(object["seq"] as? Int ?? -1)")
            #expect(record[1] == object["published_at"] as? String)
            #expect(record[4] == object["class"] as? String)
            #expect(record[7] == object["payload_base64"] as? String)
            let headers = try JSONSerialization.jsonObject(with: Data(record[6].utf8)) as? [String: String]
            #expect(headers == object["headers"] as? [String: String])
        }
        // seq 3 is flash: its headers field holds quotes and so is quoted, quotes doubled.
        #expect(csv.stdout.contains(#","{""prio"":""flash""}","#))
        #expect(csv.stdout.hasSuffix("\r\n"))
    }

    @Test func auditEventsExportEqualsTheListingAndQuotesItsCSV() async throws {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        try SecurityEvents().record(
            (0..<150).map {
                NewSecurityEvent(kind: .authFailed, account: "ohchr", remote: "192.0.2.1:\($0)", reason: "wrong token")
            } + [
                NewSecurityEvent(
                    kind: .aclChanged,
                    account: "ohchr",
                    remote: "liaisonctl",
                    reason: "granted \"sub\", hq.>\nsecond line",
                    actor: "alice"
                )
            ],
            on: connection
        )
        let export = try await Self.run(["audit", "events", "--export"])
        let listing = try await Self.run(["audit", "events", "--json", "--limit", "100000"])
        #expect(export.lines.count >= 151)
        #expect(export.stdout == listing.stdout)

        let csv = try await Self.run(["audit", "events", "--export", "--format", "csv", "--actor", "alice"])
        let records = try Self.parseCSV(csv.stdout)
        #expect(
            records == [
                ["id", "at", "kind", "account", "remote", "actor", "reason"],
                [
                    records.last?[0] ?? "", records.last?[1] ?? "", "acl.changed", "ohchr", "liaisonctl", "alice",
                    "granted \"sub\", hq.>\nsecond line",
                ],
            ]
        )
    }

    @Test func progressGoesToStandardErrorAndOutputToTheFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await Self.run(
            ["messages", "export", "--output", file.path],
            environment: ["LIAISON_EXPORT_PROGRESS_MS": "0"]
        )
        #expect(result.stdout.isEmpty)
        let progress = result.stderr.split(separator: "\n").map(String.init)
        #expect(
            progress.first?.hasPrefix("exported \(Self.messageCount) messages, at seq \(Self.messageCount), ") == true,
            "\(result)"
        )
        #expect(progress.first?.hasSuffix(" messages/s") == true, "\(result)")
        #expect(progress.last?.hasPrefix("exported \(Self.messageCount) messages in ") == true, "\(result)")
        let written = try String(contentsOf: file, encoding: .utf8)
        let stdout = try await Self.run(["messages", "export"])
        #expect(written == stdout.stdout)
    }

    @Test func aReaderThatStopsEarlyEndsTheExportQuietly() async throws {
        let bin = try CLI.executable("liaisonctl").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "'\(bin)' messages export 2>&1 | head -1; echo \"status ${PIPESTATUS[0]}\""]
        process.environment = CLI.baseEnvironment().merging(["LIAISON_DATABASE_URL": try CLIDatabase.currentURL()]) {
            _,
            new in new
        }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // Two short lines: the pipe cannot fill, so reading to the end after the exit is safe.
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(text)")
        #expect(lines.first?.hasPrefix(#"{"account":"#) == true, "\(text)")
        // Status 0 and nothing on standard error (it goes into the pipe too: an error would show).
        #expect(lines.last == "status 0", "\(text)")
    }

    @Test(arguments: [
        (
            ["messages", "export", "--output", "/nonexistent-dir/x.jsonl"], Int32(1),
            "cannot create /nonexistent-dir/x.jsonl"
        ),
        (["messages", "export", "--format", "xml"], Int32(64), "--format"),
        (["audit", "events", "--export", "--limit", "5"], Int32(64), "--export writes every matching event"),
        (["audit", "events", "--export", "--json"], Int32(64), "--export writes every matching event"),
        (["audit", "events", "--format", "csv"], Int32(64), "--format and --output go with --export"),
    ])
    func badRequestsExitWithTheirCode(arguments: [String], status: Int32, message: String) async throws {
        let result = try await CLIDatabase.run(arguments)
        #expect(result.status == status, "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
    }

    /// Splits RFC 4180 CSV into records of fields (quoted fields may hold commas, CRLF, `""`).
    private static func parseCSV(_ text: String) throws -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var characters = Array(text)[...]
        while let c = characters.popFirst() {
            if quoted {
                if c == "\"" {
                    if characters.first == "\"" {
                        field.append("\"")
                        characters.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                record.append(field)
                field = ""
            } else if c == "\r\n" {
                record.append(field)
                records.append(record)
                record = []
                field = ""
            } else {
                try #require(c != "\n" && c != "\r", "bare line break outside quotes")
                field.append(c)
            }
        }
        try #require(record.isEmpty && field.isEmpty, "CSV does not end with CRLF")
        return records
    }
}
