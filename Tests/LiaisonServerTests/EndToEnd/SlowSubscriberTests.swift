import Foundation
import LiaisonClient
import LiaisonServer
import Postgres
import TestSupport
import Testing

/// invariant 5 of docs/ARCHITECTURE.md: a subscriber that reads slower than messages arrive is neither dropped
/// nor allowed to grow the daemon's memory; it catches up from the log and ends with everything.
@Suite struct SlowSubscriberTests {
    @Test func aPausedReaderCatchesUpFromTheLogWithNothingMissingOrRepeated() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let limits = ServerConfiguration.Limits.with {
            $0.highWaterMark = 16 * 1024
            $0.replayPageSize = 64
        }
        try await TestDaemon.run(db, limits: limits) { daemon in
            let reader = try RawSocket(port: daemon.port, receiveBuffer: 4096)
            defer { reader.close() }
            try reader.send("AUTH unhcr-mm-sittwe \(daemon.tokens["unhcr-mm-sittwe"]!)\nSUB slow field.mm.>\n")
            // Let the SUB land before publishing (its OK comes back through the same socket later).
            let probe = try await daemon.client("unhcr")
            try await Task.sleep(for: .milliseconds(200))

            let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 2048)
            var published: [Int64] = []
            for round in 0..<30 {
                let results = try await probe.publishPipelined(
                    (0..<100).map { _ in (topic: "field.mm.sittwe.report", payload: payload, headers: []) }
                )
                published += try results.map { try $0.get().seq }
                _ = round
            }
            // ~6 MB was published while the reader read nothing; now it reads.
            let got = try await reader.readMessages(count: published.count, timeout: .seconds(30))
            #expect(got == published)
            // It got there through the log, not through an ever-growing buffer.
            #expect(
                daemon.counters.snapshot.catchUps > 0,
                "the paused reader never switched to catching up from the log"
            )
            #expect(daemon.counters.snapshot.replayPages > 0)
            await probe.close()
        }
    }

    /// A reader that keeps up, sent more than the high-water mark in one committed batch: the
    /// session pauses the subscription on its own burst budget, and as each `MSG` frame is a
    /// little smaller than the budget counts it, the socket may never cross its mark, so no
    /// writability change comes. Reported as a follower that stopped after 1 018 of 3 000
    /// messages of 4 KB (4 MiB, the default mark) and never got another.
    @Test func aReaderThatKeepsUpGetsEveryMessageOfBatchesLargerThanTheHighWaterMark() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let limits = ServerConfiguration.Limits.with { $0.highWaterMark = 16 * 1024 }
        try await TestDaemon.run(db, limits: limits) { daemon in
            let reader = try RawSocket(port: daemon.port)
            defer { reader.close() }
            try reader.send("AUTH unhcr-mm-sittwe \(daemon.tokens["unhcr-mm-sittwe"]!)\nSUB fast field.mm.>\n")
            let probe = try await daemon.client("unhcr")
            try await Task.sleep(for: .milliseconds(200))
            // Four frames of 3 990 bytes count 16 472 against the 16 384-byte mark, and take
            // about 16 300 bytes of the socket's.
            let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 3_990)
            let reading = Task { try await reader.readMessages(count: 400, timeout: .seconds(20)) }
            var published: [Int64] = []
            for _ in 0..<4 {
                let results = try await probe.publishPipelined(
                    (0..<100).map { _ in (topic: "field.mm.sittwe.report", payload: payload, headers: []) }
                )
                published += try results.map { try $0.get().seq }
            }
            do {
                #expect(try await reading.value == published)
            } catch {
                Issue.record("the reader stopped getting messages before all 400 arrived: \(error)")
            }
            await probe.close()
        }
    }
}
