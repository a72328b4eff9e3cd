import Foundation
import LiaisonCore
import Postgres
import TestSupport
import Testing

@testable import LiaisonStore

/// Replay pages (`MessageLog.read(after:matching:…)`): a pattern other than one literal topic
/// walks the seq key in windows, so pages must come out the same across window boundaries.
@Suite struct ReplayReadTests {
    private func message(_ topic: String, _ payload: String) throws -> NewMessage {
        NewMessage(topic: try Topic(topic), account: "ohchr", headers: Headers(), payload: Array(payload.utf8))
    }

    /// Reads everything `pattern` selects after `after`, page by page as a replaying subscriber
    /// does, with windows of `window` seqs.
    private func replay(
        _ pattern: String,
        after: Int64,
        limit: Int,
        window: Int64,
        _ log: MessageLog,
        on c: Connection
    ) throws -> [Int64] {
        var seqs: [Int64] = []
        var after = after
        while true {
            let page = try log.read(
                after: after,
                matching: try TopicPattern(pattern),
                limit: limit,
                maxClassification: .strictlyConfidential,
                window: window,
                on: c
            )
            seqs += page.map(\.seq)
            guard page.count == limit, let last = page.last?.seq else { return seqs }
            after = last
        }
    }

    @Test func sparseAndDensePatternsReadTheSameAcrossWindowBoundaries() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        defer { c.close() }
        let log = MessageLog()
        // 300 messages: a sparse topic at irregular places, the rest on two busy topics.
        let sparseAt: Set<Int> = [0, 6, 7, 8, 31, 32, 33, 150, 151, 299]
        let batch = try (0..<300).map { index in
            try message(
                sparseAt.contains(index) ? "field.sd.darfur.report" : "hq.ocha.sitrep.r\(index % 2)",
                "\(index)"
            )
        }
        let seqs = try #require(try log.append(batch, on: c)).seqs
        func expected(_ selected: (Int) -> Bool, after: Int64 = 0) -> [Int64] {
            (0..<300).filter(selected).map { seqs[$0] }.filter { $0 > after }
        }
        for window: Int64 in [1, 7, 8, 64, 65_536] {
            // Sparse, with pages smaller and larger than what one window holds.
            for limit in [1, 2, 256] {
                #expect(
                    try replay("field.>", after: 0, limit: limit, window: window, log, on: c)
                        == expected { sparseAt.contains($0) },
                    "window \(window), limit \(limit)"
                )
            }
            // Dense, from the middle; every topic; one literal topic (its own index path).
            let middle = seqs[100]
            #expect(
                try replay("hq.ocha.sitrep.*", after: middle, limit: 32, window: window, log, on: c)
                    == expected({ !sparseAt.contains($0) }, after: middle)
            )
            #expect(try replay(">", after: 0, limit: 50, window: window, log, on: c) == seqs)
            #expect(
                try replay("hq.ocha.sitrep.r1", after: 0, limit: 20, window: window, log, on: c)
                    == expected { !sparseAt.contains($0) && $0 % 2 == 1 }
            )
            // A pattern nothing matches, and a start past the head.
            #expect(try replay("field.mm.>", after: 0, limit: 10, window: window, log, on: c).isEmpty)
            #expect(try replay(">", after: seqs[299], limit: 10, window: window, log, on: c).isEmpty)
        }
    }
}
