import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import TestSupport
import Testing

/// `PostgresStorage` with several writer connections, on a real database: batches that reach it
/// in any order take seqs in token order, the order the writer sent them.
@Suite struct PipelinedAppendTests {
    private func batch(_ text: String) throws -> [NewMessage] {
        [NewMessage(topic: try Topic("hq.ocha.sitrep"), account: "ocha", headers: Headers(), payload: Array(text.utf8))]
    }

    @Test func batchesTakeSeqsInTheOrderTheirTokensWereSent() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let storage = PostgresStorage(databaseURL: db.url, readPoolSize: 1, writerConnections: 2)
        defer { storage.shutdown() }
        let first: Int64 = 1 << 40
        let deadline = ContinuousClock.now + .seconds(60)
        // The first batch alone, as the writer sends it: the gate learns the first token.
        _ = try await storage.append(try batch("0"), token: first, dedupeWindowSeconds: 0, deadline: deadline)
        // Then pairs, as a writer with two batches in flight sends them (one per connection),
        // but each pair's second batch reaches the database first.
        let count = 30
        var seqs: [Int: Int64] = [:]
        for pair in stride(from: 1, to: count, by: 2) {
            let later = try batch("\(pair + 1)")
            let earlier = try batch("\(pair)")
            async let second = storage.append(
                later,
                token: first + Int64(pair + 1),
                dedupeWindowSeconds: 0,
                deadline: deadline
            )
            try await Task.sleep(for: .milliseconds(20))
            async let firstOfPair = storage.append(
                earlier,
                token: first + Int64(pair),
                dedupeWindowSeconds: 0,
                deadline: deadline
            )
            seqs[pair + 1] = try await second.seqs[0]
            seqs[pair] = try await firstOfPair.seqs[0]
        }
        let inTokenOrder = (1...count).compactMap { seqs[$0] }
        #expect(inTokenOrder.count == count)
        #expect(inTokenOrder == inTokenOrder.sorted())
        // And the log holds them in that order, with no hole.
        let c = try db.connect()
        defer { c.close() }
        let stored = try MessageLog().read(after: 0, matching: nil, limit: 100, on: c)
        #expect(stored.map { String(decoding: $0.payload, as: UTF8.self) } == (0...count).map { "\($0)" })
        #expect(stored.map(\.seq) == Array(stored[0].seq...stored[0].seq + Int64(count)))
    }
}
