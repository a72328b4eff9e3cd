import Foundation
import LiaisonClient
import LiaisonServer
import Postgres
import TestSupport
import Testing

@Suite struct ShutdownTests {
    /// Graceful shutdown (what SIGTERM triggers through the ServiceGroup) commits and answers every
    /// publish the daemon has read, then closes the connection: each `OK PUB` is in the log, and
    /// nothing is in the log that was not answered `OK`.
    @Test func gracefulShutdownAnswersEveryPendingPublish() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let tokens = try TestDaemon.seed(db)
        let replies = try await TestDaemon.runWithShutdownHook(db) { daemon, shutdown in
            let client = try await LiaisonClient.connect(host: "127.0.0.1", port: daemon.port)
            try await client.auth(account: "ohchr", token: tokens["ohchr"]!)
            var frames: [UInt8] = []
            for i in 0..<500 {
                frames += Array("PUB hq.ohchr.action-plan.ap-\(i % 20) \(String(i).utf8.count)\n\(i)\n".utf8)
            }
            try await client.sendRaw(frames)
            // The first answer shows the daemon is committing; shut down in the middle of it.
            var replies = [try await client.nextReply()]
            await shutdown()
            while let reply = try? await client.nextReply() { replies.append(reply) }
            await client.waitUntilClosed()
            return replies
        }
        #expect(!replies.isEmpty)
        #expect(replies.count <= 500)
        let okSeqs = replies.compactMap { line -> Int64? in
            line.hasPrefix("OK PUB ") ? Int64(line.dropFirst("OK PUB ".count)) : nil
        }
        #expect(replies.allSatisfy { $0.hasPrefix("OK PUB ") || $0.hasPrefix("ERR 503 ") }, "\(replies)")
        let c = try db.connect()
        let stored = try c.query("SELECT seq FROM messages ORDER BY seq")
        let storedSeqs = try (0..<stored.rowCount).map { try stored.decode(Int64.self, row: $0, column: 0) }
        #expect(okSeqs == storedSeqs)
    }
}
