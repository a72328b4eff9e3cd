import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import Testing

@Suite(.cliDatabase, .serialized)
struct MessagesListTests {
    /// Three messages in three transactions, so each has its own time; returns their times.
    private static func seed() throws -> [Date] {
        let connection = try CLIDatabase.connect()
        defer { connection.close() }
        guard try MessageLog().headSeq(on: connection) == 0 else {
            return try (1...3).map { seq in
                try connection.query("SELECT published_at FROM messages WHERE seq = $1", [Int64(seq).postgresBind])
                    .decode(Date.self, row: 0, column: 0)
            }
        }
        var flash = Headers()
        try flash.set("prio", "flash")
        try flash.set("id", "ew-1")
        let batches = [
            NewMessage(
                topic: try Topic("hq.ohchr.guidance-note"),
                account: "ohchr",
                headers: Headers(),
                payload: Array("Recommendation 19 adopted".utf8)
            ),
            NewMessage(
                topic: try Topic("field.mm.sittwe.early-warning"),
                account: "unhcr-mm-sittwe",
                headers: flash,
                payload: Array("tension\nrising".utf8) + [0]
            ),
            NewMessage(
                topic: try Topic("field.ba.sarajevo.early-warning"),
                account: "undp-ba-sarajevo",
                headers: Headers(),
                payload: Array("calm".utf8)
            ),
        ]
        var times: [Date] = []
        for message in batches {
            let appended = try #require(try MessageLog().append([message], on: connection))
            times.append(appended.publishedAt)
        }
        return times
    }

    private static func seqs(_ arguments: [String]) async throws -> [Int] {
        let result = try await CLIDatabase.run(["messages", "list"] + arguments)
        #expect(result.status == 0, "\(result)")
        return result.lines.dropFirst().compactMap { Int($0.prefix { $0 != " " }) }
    }

    @Test func filtersSelectTheRightMessages() async throws {
        let times = try Self.seed()
        #expect(try await Self.seqs([]) == [1, 2, 3])
        #expect(try await Self.seqs(["--account", "unhcr-mm-sittwe"]) == [2])
        #expect(try await Self.seqs(["--topic", "field.*.*.early-warning"]) == [2, 3])
        #expect(try await Self.seqs(["--topic", "hq.>"]) == [1])
        #expect(try await Self.seqs(["--from-seq", "2", "--to-seq", "2"]) == [2])
        #expect(try await Self.seqs(["--limit", "1", "--newest-first"]) == [3])
        #expect(try await Self.seqs(["--since", RFC3339.format(times[1])]) == [2, 3])
        #expect(try await Self.seqs(["--until", RFC3339.format(times[1])]) == [1])
        #expect(try await Self.seqs(["--since", "2999-01-01T00:00:00Z"]) == [])
    }

    @Test func tableShowsHeadersAndAPrintablePreview() async throws {
        _ = try Self.seed()
        let result = try await CLIDatabase.run(["messages", "list", "--account", "unhcr-mm-sittwe", "--payload"])
        #expect(result.status == 0, "\(result)")
        #expect(result.lines.count == 2)
        let header = result.lines[0].split(separator: " ", omittingEmptySubsequences: true)
        #expect(header == ["SEQ", "PUBLISHED", "ACCOUNT", "TOPIC", "CLASS", "SIZE", "HEADERS", "PAYLOAD"])
        let row = result.lines[1].split(separator: " ", omittingEmptySubsequences: true)
        #expect(row.count == 9)
        #expect(row[0] == "2" && row[2] == "unhcr-mm-sittwe" && row[3] == "field.mm.sittwe.early-warning")
        #expect(row[4] == "internal")
        #expect(row[5] == "15")
        #expect(row[6] == "id=ew-1" && row[7] == "prio=flash")
        #expect(row[8] == "tension.rising.")
    }

    @Test func jsonLinesCarryTheExactPayload() async throws {
        _ = try Self.seed()
        let result = try await CLIDatabase.run([
            "messages", "list", "--format", "jsonl", "--from-seq", "2", "--limit", "1",
        ])
        #expect(result.status == 0, "\(result)")
        #expect(result.lines.count == 1)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.lines[0].utf8)) as? [String: Any]
        )
        #expect(object["seq"] as? Int == 2)
        #expect(object["topic"] as? String == "field.mm.sittwe.early-warning")
        #expect(object["account"] as? String == "unhcr-mm-sittwe")
        #expect(object["size"] as? Int == 15)
        #expect(object["headers"] as? [String: String] == ["id": "ew-1", "prio": "flash"])
        #expect(object["class"] as? String == "internal")
        let base64 = try #require(object["payload_base64"] as? String)
        let payload = try #require(Data(base64Encoded: base64))
        #expect(Array(payload) == Array("tension\nrising".utf8) + [0])
        let time = try #require(object["published_at"] as? String)
        #expect(RFC3339.parse(time) != nil)
    }

    @Test(arguments: [
        (["--since", "yesterday"], "--since must be an RFC 3339 time"),
        (["--topic", "hq..x"], "--topic: "),
        (["--limit", "0"], "--limit must be at least 1"),
        (["--format", "xml"], "The value 'xml' is invalid for '--format <format>'"),
    ])
    func badFiltersExit64(arguments: [String], message: String) async throws {
        let result = try await CLIDatabase.run(["messages", "list"] + arguments)
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.hasPrefix("liaisonctl: error: \(message)"), "\(result)")
    }
}
