import Foundation
import LiaisonStore
import Postgres
import TestSupport
import Testing

/// The sealer and `audit verify` take `messages.headers` apart in Swift (the `jsonb` text): the
/// pairs must be exactly those PostgreSQL's own `jsonb_each_text` gives, for any value a row
/// could hold, and a row whose headers are not a flat object of strings must be flagged.
@Suite struct AuditRowHeadersTests {
    static let wellFormed = [
        #"{}"#,
        #"{"prio": "flash", "class": "internal"}"#,
        #"{"q": "say \"hi\"", "b": "back\\slash", "s": "a/b"}"#,
        #"{"ctl": "tab\there\nnew\u0001line\r\f\b"}"#,
        #"{"é": "ünïcødé ☃", "emoji": "\ud83d\ude00 and 😀"}"#,
        #"{"Z": "upper", "a": "lower", "aa": "longer", "": "empty key"}"#,
        #"{"eq": "k=v with spaces", "id": "1234"}"#,
    ]
    static let malformed = [
        #"[]"#, #""text""#, #"42"#, #"null"#, #"{"n": 1}"#, #"{"x": null}"#, #"{"o": {"p": "q"}}"#,
        #"{"a": ["b"]}"#, #"{"t": true}"#,
    ]

    @Test func headersReadInSwiftEqualPostgresOwnDecoding() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let all = Self.wellFormed + Self.malformed
        for (i, json) in all.enumerated() {
            _ = try c.query(
                "INSERT INTO messages (seq, topic, account, published_at, headers, payload) "
                    + "VALUES ($1, 'hq.t', 'hq', now(), $2::jsonb, '\\x00')",
                [Int64(i + 1).postgresBind, json.postgresBind]
            )
        }
        let rows = try AuditLog().rows(after: 0, limit: 100, on: c)
        #expect(rows.count == all.count)
        for row in rows {
            let index = Int(row.leaf.seq) - 1
            guard index < Self.wellFormed.count else {
                #expect(!row.wellFormed, "headers \(all[index]) must be flagged")
                continue
            }
            #expect(row.wellFormed, "headers \(all[index])")
            let expected = try c.query(
                "SELECT key, value FROM messages, jsonb_each_text(headers) WHERE seq = $1 ORDER BY key COLLATE \"C\"",
                [row.leaf.seq.postgresBind]
            )
            let pairs = try (0..<expected.rowCount).map {
                "\(try expected.decode(String.self, row: $0, column: 0))=\(try expected.decode(String.self, row: $0, column: 1))"
            }
            let read = row.leaf.headers.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            #expect(read.map { "\($0.key)=\($0.value)" } == pairs, "headers \(all[index])")
        }
    }
}
