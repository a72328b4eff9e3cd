import Foundation
import LiaisonClient
import LiaisonServer
import Postgres
import TestSupport
import Testing

@Suite struct ShutdownTests {
    /// Graceful shutdown (what SIGTERM triggers through the ServiceGroup) commits and answers every
    /// publish already received, then closes the connection.
    @Test func gracefulShutdownAnswersEveryPendingPublish() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let tokens = try TestDaemon.seed(db)
        let (acked, client) = try await TestDaemon.runWithShutdownHook(db) { daemon, shutdown in
            let client = try await LiaisonClient.connect(host: "127.0.0.1", port: daemon.port)
            try await client.auth(account: "ohchr", token: tokens["ohchr"]!)
            let items = (0..<500).map {
                (
                    topic: "hq.ohchr.action-plan.ap-\($0 % 20)", payload: Array("p\($0)".utf8),
                    headers: [(String, String)]()
                )
            }
            async let results = client.publishPipelined(items)
            // Shut down while the batch is on the wire and in the writer.
            try await Task.sleep(for: .milliseconds(5))
            await shutdown()
            return (try await results, client)
        }
        await client.waitUntilClosed()
        // Every publish got exactly one reply; each OK was committed; none was lost silently.
        #expect(acked.count == 500)
        let okSeqs = acked.compactMap { try? $0.get().seq }
        for case .failure(let error) in acked { #expect(error.code == 503) }
        let c = try db.connect()
        let stored = try c.query("SELECT seq FROM messages ORDER BY seq")
        let storedSeqs = Set(try (0..<stored.rowCount).map { try stored.decode(Int64.self, row: $0, column: 0) })
        #expect(Set(okSeqs).isSubset(of: storedSeqs))
        #expect(okSeqs.count == storedSeqs.count)
    }
}
