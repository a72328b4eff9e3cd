import Foundation
import LiaisonClient
import LiaisonServer
import Postgres
import TestSupport
import Testing

/// Storage failures, bad input and liveness, end to end.
@Suite struct FailureTests {
    /// Ends every backend of the test database but the caller's: the daemon's connections break.
    private func terminateDaemonConnections(_ db: TestDatabase) throws {
        let c = try db.connect()
        try c.query(
            """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()
            """
        )
    }

    @Test func aPublishWhoseCommitFailsGets503AndIsNeverDelivered() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let subscriber = try await daemon.client("unhcr-mm-sittwe")
            try await subscriber.subscribe(sid: "s", pattern: "field.mm.>")
            let publisher = try await daemon.client("unhcr")
            let ok = try await publisher.publish(topic: "field.mm.sittwe.report", payload: Array("one".utf8))

            // The database refuses this row: the publisher must hear 503, and nobody may see it.
            let c = try db.connect()
            try c.query("ALTER TABLE messages ADD CONSTRAINT refuse_poison CHECK (topic <> 'field.mm.sittwe.poison')")
            let refused = await #expect(throws: ServerError.self) {
                try await publisher.publish(topic: "field.mm.sittwe.poison", payload: Array("bad".utf8))
            }
            #expect(refused?.code == 503)

            // The connection breaks under the writer: 503 again, then it reconnects by itself.
            try terminateDaemonConnections(db)
            var recovered: PublishAck?
            var outcomeUnknown = 0
            for _ in 0..<50 {
                do {
                    recovered = try await publisher.publish(topic: "field.mm.sittwe.report", payload: Array("two".utf8))
                    break
                } catch let error as ServerError {
                    #expect(error.code == 503)
                    if error.text.contains("outcome unknown") { outcomeUnknown += 1 }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            // It recovers by itself, and every "not stored" answer was the truth: only an
            // "outcome unknown" answer may have left a row behind.
            let second = try #require(recovered)
            let twos = try db.connect().query("SELECT count(*) FROM messages WHERE payload = 'two'::bytea")
            let storedTwos = try twos.decode(Int64.self, row: 0, column: 0)
            #expect(storedTwos >= 1 && storedTwos <= 1 + Int64(outcomeUnknown))

            let got = try await collect(subscriber, count: 2)
            #expect(got.first?.seq == ok.seq)
            #expect(got.last?.seq == second.seq || outcomeUnknown > 0)
            #expect(!got.contains { $0.topic.hasSuffix("poison") })
            let stored = try db.connect().query("SELECT count(*) FROM messages WHERE topic = 'field.mm.sittwe.poison'")
            #expect(try stored.decode(Int64.self, row: 0, column: 0) == 0)
        }
    }

    /// A pooled connection the database ended while idle is replaced before it fails a client.
    @Test func requestsAfterTheDatabaseEndedIdleConnectionsSucceedAtOnce() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let warm = try await daemon.client("ohchr")
            _ = try await warm.publish(topic: "hq.ohchr.x", payload: [])
            try terminateDaemonConnections(db)
            try await Task.sleep(for: .milliseconds(200))
            // Every read-pool connection and the writer's died; none of that reaches the client.
            for _ in 0..<4 { _ = try await daemon.client("unhcr") }
            let ack = try await warm.publish(topic: "hq.ohchr.x", payload: [])
            #expect(ack.seq > 0)
            #expect(daemon.counters.snapshot.publishFailures == 0)
        }
    }

    /// A client that pipelines AUTH and SUB and hangs up at once leaves nothing routed behind.
    @Test func connectionsThatCloseBehindAPendingAuthLeaveNoSubscription() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let token = daemon.tokens["ohchr"]!
            for _ in 0..<50 {
                let socket = try RawSocket(port: daemon.port)
                try socket.send("AUTH ohchr \(token)\nSUB s >\nSUB d > durable=gone\n")
                socket.close()
            }
            // Give the pending AUTHs time to finish on the read pool.
            let probe = try await daemon.client("ohchr")
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await probe.command("PING") == "PONG")
            #expect(daemon.counters.snapshot.subscriptions == 0)
            // The durable name was not left bound either.
            #expect(try await probe.command("SUB d > durable=gone") == "OK SUB d")
            #expect(daemon.counters.snapshot.subscriptions == 1)
        }
    }

    @Test func commandsNeedAuthenticationAndBadTokensAreRefused() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db) { daemon in
            let anonymous = try await daemon.client(nil)
            #expect(anonymous.greeting.maxPayload == 1 << 20)
            #expect(try await anonymous.command("SUB a hq.>").hasPrefix("ERR 401"))
            #expect(try await anonymous.command("AUTH ohchr lia_wrong").hasPrefix("ERR 401"))
            #expect(try await anonymous.command("ping") == "PONG")
            #expect(try await anonymous.command("AUTH ohchr \(daemon.tokens["ohchr"]!)") == "OK AUTH ohchr")
            #expect(try await anonymous.command("AUTH ohchr \(daemon.tokens["ohchr"]!)").hasPrefix("ERR 409"))
            #expect(try await anonymous.command("SUB a hq.>") == "OK SUB a")
            #expect(try await anonymous.command("SUB a hq.>").hasPrefix("ERR 409"))
            #expect(try await anonymous.command("UNSUB nope").hasPrefix("ERR 404"))
            #expect(try await anonymous.command("SUB b hq.>.x").hasPrefix("ERR 400"))
            #expect(try await anonymous.command("FROB").hasPrefix("ERR 400"))
            #expect(try await anonymous.command("UNSUB a") == "OK UNSUB a")
            try await anonymous.quit()
        }
    }

    @Test func malformedPublishKeepsTheStreamInSyncButOversizeCloses() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db, limits: .with { $0.maxPayload = 1024 }) { daemon in
            let client = try await daemon.client("ohchr")
            // Bad topic, valid size: the payload (holding a line that looks like a command) is skipped.
            try await client.sendRaw(Array("PUB bad..topic 10\nPING\nPING\n\n".utf8))
            #expect(try await client.nextReply().hasPrefix("ERR 400"))
            #expect(try await client.command("PING") == "PONG")
            // Payload larger than max_payload: 413, then the server closes.
            try await client.sendRaw(Array("PUB hq.ohchr.x 2048\n".utf8))
            #expect(try await client.nextReply().hasPrefix("ERR 413"))
            await client.waitUntilClosed()

            let other = try await daemon.client("ohchr")
            try await other.sendRaw(Array(String(repeating: "A", count: 5000).utf8))
            #expect(try await other.nextReply().hasPrefix("ERR 413"))
            await other.waitUntilClosed()
        }
    }

    @Test func silentClientsArePingedThenClosed() async throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        try await TestDaemon.run(db, limits: .with { $0.pingIntervalMilliseconds = 150 }) { daemon in
            // The client library answers PING with PONG, so it stays connected across several intervals.
            let polite = try await daemon.client("ohchr")
            try await Task.sleep(for: .milliseconds(700))
            #expect(try await polite.command("PING") == "PONG")

            // A raw socket that never answers is closed after the unanswered PINGs.
            let socket = try RawSocket(port: daemon.port)
            let start = ContinuousClock.now
            let text = try await socket.readUntilClosed(timeout: .seconds(10))
            #expect(text.hasPrefix("LIAISON 1 "))
            #expect(text.components(separatedBy: "PING\n").count - 1 == 2)
            #expect(ContinuousClock.now - start < .seconds(5))
            await polite.close()
        }
    }
}
