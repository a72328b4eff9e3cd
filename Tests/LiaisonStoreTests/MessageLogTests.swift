import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import TestSupport
import Testing

@Suite struct MessageLogTests {
    private func message(
        _ topic: String,
        _ account: String = "ohchr",
        _ payload: String = "x",
        headers: [(String, String)] = []
    )
        throws -> NewMessage
    {
        var h = Headers()
        for (k, v) in headers { try h.set(k, v) }
        return NewMessage(topic: try Topic(topic), account: account, headers: h, payload: Array(payload.utf8))
    }

    @Test func appendAssignsContiguousSeqsAndReadsBackExactly() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let log = MessageLog()
        let binary: [UInt8] = [0, 10, 13, 255, 0x22, 0x5C]
        var batch = [
            try message(
                "hq.ohchr.guidance-note.rec-01",
                headers: [("prio", "urgent"), ("class", "public"), ("x-ref", "a\"b\\c")]
            ),
            try message("field.mm.sittwe.early-warning", "unhcr-mm-sittwe"),
        ]
        batch.append(
            NewMessage(
                topic: try Topic("field.mm.sittwe.report"),
                account: "unhcr-mm-sittwe",
                headers: Headers(),
                payload: binary
            )
        )
        let first = try #require(try log.append(batch, on: c))
        let second = try #require(try log.append([try message("net.announce")], on: c))
        #expect(second.seqs[0] == first.seqs[0] + 3)
        #expect(try log.headSeq(on: c) == second.seqs[0])

        let all = try log.read(after: 0, matching: nil, limit: 100, on: c)
        #expect(all.map(\.seq) == [first.seqs[0], first.seqs[0] + 1, first.seqs[0] + 2, second.seqs[0]])
        #expect(all[0].headers["prio"] == "urgent")
        #expect(all[0].headers["x-ref"] == "a\"b\\c")
        #expect(all[0].headers.map(\.0) == ["class", "prio", "x-ref"])  // stored order: by key
        #expect(all[2].payload == binary)
        #expect(all[1].account == "unhcr-mm-sittwe")
        #expect(all[0].publishedAt == first.publishedAt)
        #expect(try log.append([], on: c) == nil)
    }

    @Test(arguments: [
        ("field.mm.>", [2, 3]),
        ("field.*.*.early-warning", [2, 4]),
        ("hq.*.guidance-note.*", [1]),
        (">", [1, 2, 3, 4, 5]),
        ("net.announce", [5]),
        ("field.mm", []),
        ("*.announce", [5]),
    ])
    func readSelectsExactlyWhatThePatternMatches(_ pattern: String, _ expected: [Int]) throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let log = MessageLog()
        let topics = [
            "hq.ohchr.guidance-note.rec-07", "field.mm.sittwe.early-warning", "field.mm.yangon.report",
            "field.ba.sarajevo.early-warning", "net.announce",
        ]
        let appended = try #require(try log.append(try topics.map { try message($0) }, on: c))
        let got = try log.read(after: 0, matching: try TopicPattern(pattern), limit: 100, on: c)
        #expect(got.map { Int($0.seq - appended.seqs[0]) + 1 } == expected)
        // Paging: after the first match, only later ones.
        if let firstMatch = got.first {
            let rest = try log.read(after: firstMatch.seq, matching: try TopicPattern(pattern), limit: 100, on: c)
            #expect(rest.map(\.seq) == Array(got.dropFirst().map(\.seq)))
        }
    }

    @Test func seqBeforeTimeAndAuditFilters() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let log = MessageLog()
        let a = try #require(try log.append([try message("hq.undp.action-plan.ap-01", "undp")], on: c))
        Thread.sleep(forTimeInterval: 0.02)
        let b = try #require(try log.append([try message("hq.unicef.action-plan.ap-02", "unicef")], on: c))
        #expect(try log.seqBefore(time: b.publishedAt, on: c) == b.seqs[0] - 1)
        #expect(try log.seqBefore(time: a.publishedAt.addingTimeInterval(-60), on: c) == a.seqs[0] - 1)
        #expect(try log.seqBefore(time: b.publishedAt.addingTimeInterval(60), on: c) == b.seqs[0])

        #expect(try log.list(MessageQuery(account: "undp"), on: c).map(\.seq) == [a.seqs[0]])
        #expect(try log.list(MessageQuery(pattern: try TopicPattern("hq.unicef.>")), on: c).map(\.seq) == [b.seqs[0]])
        #expect(try log.list(MessageQuery(since: b.publishedAt), on: c).map(\.seq) == [b.seqs[0]])
        #expect(try log.list(MessageQuery(until: b.publishedAt), on: c).map(\.seq) == [a.seqs[0]])
        #expect(try log.list(MessageQuery(fromSeq: b.seqs[0]), on: c).map(\.seq) == [b.seqs[0]])
        #expect(try log.list(MessageQuery(toSeq: a.seqs[0]), on: c).map(\.seq) == [a.seqs[0]])
        #expect(try log.list(MessageQuery(limit: 1, newestFirst: true), on: c).map(\.seq) == [b.seqs[0]])
        // A hostile filter value is data, never SQL (invariant 6).
        #expect(try log.list(MessageQuery(account: "x' OR '1'='1"), on: c).isEmpty)
    }

    /// invariant 2 of docs/ARCHITECTURE.md: with several writers, a reader that follows `seq > last` never
    /// misses a row that commits later with a lower seq.
    @Test func concurrentWritersCommitInSeqOrder() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let writers = 4
        let batchesPerWriter = 60
        let done = ManagedAtomicFlag()
        let group = DispatchGroup()
        let failures = FailureLog()
        for w in 0..<writers {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let c = try db.connect()
                    for i in 0..<batchesPerWriter {
                        let size = 1 + (i * 7 + w) % 13
                        let batch = try (0..<size).map { _ in try message("load.w\(w)") }
                        _ = try MessageLog().append(batch, on: c)
                    }
                } catch {
                    failures.add("writer \(w): \(error)")
                }
            }
        }
        var seen: [Int64] = []
        let reader = try db.connect()
        var last: Int64 = 0
        repeat {
            let finishedBeforePoll = done.isSet
            let rows = try reader.query("SELECT seq FROM messages WHERE seq > $1 ORDER BY seq", [last.postgresBind])
            for row in 0..<rows.rowCount {
                let seq = try rows.decode(Int64.self, row: row, column: 0)
                seen.append(seq)
                last = seq
            }
            if finishedBeforePoll { break }
            if group.wait(timeout: .now()) == .success { done.set() }
        } while true
        #expect(failures.all.isEmpty)
        let all = try reader.query("SELECT seq FROM messages ORDER BY seq")
        let everything = try (0..<all.rowCount).map { try all.decode(Int64.self, row: $0, column: 0) }
        #expect(everything.count > writers * batchesPerWriter)
        #expect(seen == everything, "the polling reader missed rows that committed after a higher seq")
        #expect(everything == Array(everything.first!...everything.last!), "seqs have gaps")
        // Publication times follow seq order too, so from=<time> replays never skip a later seq.
        let times = try reader.query("SELECT published_at FROM messages ORDER BY seq")
        let stamps = try (0..<times.rowCount).map { try times.decode(Date.self, row: $0, column: 0) }
        #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $0 <= $1 }, "published_at goes backwards as seq grows")
    }
}

/// A flag shared between threads.
final class ManagedAtomicFlag: @unchecked Sendable {
    // @unchecked: guarded by the lock.
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { self.lock.withLock { self.value } }
    func set() { self.lock.withLock { self.value = true } }
}

/// Errors collected from worker threads.
final class FailureLog: @unchecked Sendable {
    // @unchecked: guarded by the lock.
    private let lock = NSLock()
    private var items: [String] = []
    var all: [String] { self.lock.withLock { self.items } }
    func add(_ text: String) { self.lock.withLock { self.items.append(text) } }
}
