import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import TestSupport
import Testing

/// Idempotent publish: `PUB … id=<key>` stores a key once per account within the dedupe window.
@Suite struct DedupeTests {
    private func message(_ account: String, id: String?, _ text: String = "x") throws -> NewMessage {
        var headers = Headers()
        if let id { try headers.set("id", id) }
        return NewMessage(
            topic: try Topic("field.mm.sittwe.report"),
            account: account,
            headers: headers,
            payload: Array(text.utf8)
        )
    }

    private func count(_ c: Connection) throws -> Int64 {
        try c.query("SELECT count(*) FROM messages").decode(Int64.self, row: 0, column: 0)
    }

    @Test func aRepeatedKeyReturnsTheFirstSeqAndStoresNothing() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let log = MessageLog()
        let first = try #require(try log.append([try message("unhcr", id: "k1", "first")], on: c))
        #expect(first.duplicates == [false])
        // Later batch: the repeat, a new key, another account's same key, a keyless row, a repeat inside the batch.
        let second = try #require(
            try log.append(
                [
                    try message("unhcr", id: "k1", "again"), try message("unhcr", id: "k2"),
                    try message("ohchr", id: "k1"),
                    try message("unhcr", id: nil), try message("unhcr", id: "k2", "twice in one batch"),
                ],
                on: c
            )
        )
        #expect(second.duplicates == [true, false, false, false, true])
        #expect(second.seqs[0] == first.seqs[0])
        #expect(second.seqs[4] == second.seqs[1])
        #expect(Set([second.seqs[1], second.seqs[2], second.seqs[3]]).count == 3)
        #expect(try count(c) == 4)
        let stored = try log.read(after: 0, matching: nil, limit: 10, on: c)
        #expect(stored.first.map { String(decoding: $0.payload, as: UTF8.self) } == "first")
        // The stored seqs have no holes: duplicates take no seq.
        #expect(stored.map(\.seq) == Array(stored[0].seq...stored[0].seq + 3))
    }

    @Test func theWindowExpiresKeysUnlessItIsZero() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let log = MessageLog()
        let first = try #require(try log.append([try message("iom", id: "old")], dedupeWindowSeconds: 3600, on: c))
        try c.query("UPDATE dedupe_keys SET created_at = now() - interval '2 hours'")
        // Window 0: the key still counts, however old.
        let forever = try #require(try log.append([try message("iom", id: "old")], dedupeWindowSeconds: 0, on: c))
        #expect(forever.duplicates == [true])
        #expect(forever.seqs == first.seqs)
        // One hour: the two-hour-old key no longer counts; the message is stored and the key renewed.
        let fresh = try #require(try log.append([try message("iom", id: "old")], dedupeWindowSeconds: 3600, on: c))
        #expect(fresh.duplicates == [false])
        #expect(fresh.seqs[0] > first.seqs[0])
        let again = try #require(try log.append([try message("iom", id: "old")], dedupeWindowSeconds: 3600, on: c))
        #expect(again.duplicates == [true])
        #expect(again.seqs == fresh.seqs)
    }

    @Test func repeatsInsideABatchReportTheFirstOccurrencesSeq() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let log = MessageLog()
        // One key three times, interleaved with keyless rows and another account's same key.
        let batch = try #require(
            try log.append(
                [
                    try message("wfp", id: nil, "a"), try message("wfp", id: "k", "b"),
                    try message("wfp", id: "k", "c"),
                    try message("fao", id: "k", "d"), try message("wfp", id: nil, "e"),
                    try message("wfp", id: "k", "f"),
                ],
                on: c
            )
        )
        #expect(batch.duplicates == [false, false, true, false, false, true])
        #expect(batch.seqs[2] == batch.seqs[1])
        #expect(batch.seqs[5] == batch.seqs[1])
        let stored = try log.read(after: 0, matching: nil, limit: 10, on: c)
        #expect(stored.map { String(decoding: $0.payload, as: UTF8.self) } == ["a", "b", "d", "e"])
        #expect(stored.map(\.seq) == [batch.seqs[0], batch.seqs[1], batch.seqs[3], batch.seqs[4]])
        // A later batch repeating the key twice: both rows are repeats of the stored seq.
        let later = try #require(
            try log.append(
                [try message("wfp", id: "k"), try message("wfp", id: "k"), try message("fao", id: "k")],
                on: c
            )
        )
        #expect(later.duplicates == [true, true, true])
        #expect(later.seqs == [batch.seqs[1], batch.seqs[1], batch.seqs[3]])
    }

    @Test func aKeyRepeatedInOneBatchAfterItsWindowExpiredIsStoredOnce() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let log = MessageLog()
        let first = try #require(try log.append([try message("iom", id: "old")], dedupeWindowSeconds: 60, on: c))
        try c.query("UPDATE dedupe_keys SET created_at = now() - interval '2 minutes'")
        let renewed = try #require(
            try log.append(
                [try message("iom", id: "old", "new 1"), try message("iom", id: "old", "new 2")],
                dedupeWindowSeconds: 60,
                on: c
            )
        )
        #expect(renewed.duplicates == [false, true])
        #expect(renewed.seqs[0] > first.seqs[0])
        #expect(renewed.seqs[1] == renewed.seqs[0])
        #expect(try count(c) == 2)
        let key = try c.query("SELECT seq FROM dedupe_keys WHERE account = 'iom' AND key = 'old'")
        #expect(try key.decode(Int64.self, row: 0, column: 0) == renewed.seqs[0])
    }

    @Test func racingPublishersWithOneKeyStoreItOnce() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let results = FailureLog()
        let group = DispatchGroup()
        for writer in 0..<6 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let c = try db.connect()
                    for round in 0..<20 {
                        let appended = try MessageLog().append(
                            [try message("unicef", id: "race-\(round)", "writer \(writer)")],
                            on: c
                        )
                        results.add("\(round) \(appended!.seqs[0]) \(appended!.duplicates[0])")
                    }
                } catch {
                    results.add("error \(error)")
                }
            }
        }
        group.wait()
        let lines = results.all
        #expect(!lines.contains { $0.hasPrefix("error") })
        for round in 0..<20 {
            let mine = lines.filter { $0.hasPrefix("\(round) ") }.map { $0.split(separator: " ") }
            #expect(mine.count == 6)
            #expect(Set(mine.map { $0[1] }).count == 1, "round \(round): every racer gets the winner's seq")
            #expect(mine.filter { $0[2] == "false" }.count == 1, "round \(round): exactly one stored it")
        }
        #expect(try count(try db.connect()) == 20)
    }
}
