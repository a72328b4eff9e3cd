import Foundation
import LiaisonClient
import LiaisonServer
import Postgres
import TestSupport
import Testing

/// PostgreSQL that hangs (TCP open, nothing answered) or stops, seen through a fault proxy
/// between the daemon and the database, so only this test's daemon is affected.
@Suite struct HungDatabaseTests {
    /// The test database's URL with its port replaced by the proxy's.
    private func url(_ db: TestDatabase, throughPort port: Int) throws -> String {
        var components = try #require(URLComponents(string: db.url))
        components.host = "127.0.0.1"
        components.port = port
        return try #require(components.string)
    }

    private func databasePort(_ db: TestDatabase) throws -> Int {
        try #require(URLComponents(string: db.url)?.port)
    }

    /// Reported: with PostgreSQL hung, a `PUB` got no reply in 30 s, AUTH waited too, and
    /// shutdown would have waited until killed.
    @Test(.timeLimit(.minutes(2))) func aHungDatabaseGets503WithinTheTimeoutAndServiceResumesByItself() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let proxy = try await FaultProxy.start(target: "127.0.0.1", port: try self.databasePort(db))
        defer { proxy.stop() }
        let url = try self.url(db, throughPort: proxy.port)
        let configure: @Sendable (inout ServerConfiguration) -> Void = { $0.databaseURL = url }
        try await TestDaemon.runWithShutdownHook(db, configure: configure) { daemon, shutdown in
            let publisher = try await daemon.client("unhcr")
            _ = try await publisher.publish(topic: "field.mm.sittwe.report", payload: Array("before".utf8))

            try proxy.stall()
            let start = ContinuousClock.now
            let refused = await #expect(throws: ServerError.self) {
                try await publisher.publish(topic: "field.mm.sittwe.report", payload: Array("during".utf8))
            }
            #expect(refused?.code == 503)
            // The promise is 5 s; the bound leaves room for a loaded machine, not for a hang.
            #expect(ContinuousClock.now - start < .seconds(15))
            // PING does not touch the database and keeps working.
            try await publisher.ping()
            // A new connection's AUTH is answered too.
            let newcomer = try await LiaisonClient.connect(host: "127.0.0.1", port: daemon.port)
            let auth = await #expect(throws: ServerError.self) {
                try await newcomer.auth(account: "ohchr", token: daemon.tokens["ohchr"]!)
            }
            #expect(auth?.code == 503)

            try proxy.unstall()
            var resumed = false
            for _ in 0..<60 where !resumed {
                if (try? await publisher.publish(topic: "field.mm.sittwe.report", payload: Array("after".utf8))) != nil
                {
                    resumed = true
                } else {
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
            #expect(resumed)

            // Hung again: graceful shutdown still finishes (the test's time limit would catch a hang).
            try proxy.stall()
            await shutdown()
        }
    }

    /// A stopped database (connections refused) answers `ERR 503 … not stored` at once.
    @Test func aStoppedDatabaseRefusesPublishesAsNotStored() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let proxy = try await FaultProxy.start(target: "127.0.0.1", port: try self.databasePort(db))
        defer { proxy.stop() }
        let url = try self.url(db, throughPort: proxy.port)
        let configure: @Sendable (inout ServerConfiguration) -> Void = { $0.databaseURL = url }
        try await TestDaemon.run(db, configure: configure) { daemon in
            let publisher = try await daemon.client("unhcr")
            try proxy.refuse()
            try proxy.reset()
            var answers: [String] = []
            for _ in 0..<3 {
                do {
                    _ = try await publisher.publish(topic: "field.mm.sittwe.report", payload: Array("x".utf8))
                    answers.append("OK")
                } catch let error as ServerError {
                    answers.append("\(error.code) \(error.text)")
                }
            }
            #expect(answers.allSatisfy { $0.hasPrefix("503") })
            #expect(answers.contains { $0.contains("not stored") })
            try proxy.accept()
            let count = try db.connect().query("SELECT count(*) FROM messages WHERE payload = 'x'::bytea")
            #expect(
                try count.decode(Int64.self, row: 0, column: 0)
                    <= Int64(answers.filter { $0.contains("unknown") }.count)
            )
        }
    }
}
