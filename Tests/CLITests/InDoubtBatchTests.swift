import Foundation
import LiaisonStore
import Postgres
import Testing

/// A batch whose commit outcome was unknown to its publisher (`ERR 503 … outcome unknown`) but
/// which then committed reaches live subscribers by itself, with no later publish to push it out
/// (docs/ARCHITECTURE.md: a committed row is never left unrouted; docs/PROTOCOL.md: if it is
/// stored, it is delivered).
@Suite(.cliDatabase, .serialized)
struct InDoubtBatchTests {
    private static let topic = "hq.ohchr.in-doubt"

    @Test(.timeLimit(.minutes(2)))
    func aBatchThatCommitsAfterItsPublishTimedOutIsDeliveredWithoutAnotherPublish() async throws {
        let tokens = try await Daemon.issueTokens(for: ["ohchr"])
        let token = try #require(tokens["ohchr"])
        let url = try CLIDatabase.currentURL()
        let daemon = try await Daemon(databaseURL: url)
        defer { Task { await daemon.stop() } }
        let port = daemon.port
        let subscriber = try await ProcessClient.onThread {
            let client = try ProcessClient(port: port)
            try client.authenticate(account: "ohchr", token: token)
            guard try client.command("SUB s hq.>") == "OK SUB s" else {
                throw ProcessClient.Failure(description: "SUB refused")
            }
            return client
        }
        let publisher = try await ProcessClient.onThread {
            let client = try ProcessClient(port: port)
            try client.authenticate(account: "ohchr", token: token)
            return client
        }

        // Another session holds the append lock, as a stalled commit would: the publish's
        // transaction waits for it past the 5 s publish timeout.
        let holder = try Connection(url)
        defer { holder.close() }
        _ = try holder.query("BEGIN")
        _ = try holder.query("SELECT pg_advisory_xact_lock(\(Schema.appendLockKey))")
        let payload = Array("stalled".utf8)
        let reply = try await ProcessClient.onThread {
            try publisher.send(ProcessClient.Outgoing(topic: Self.topic, payload: payload).frame)
            guard case .line(let line)? = try publisher.nextFrame(timeout: .seconds(30)) else {
                throw ProcessClient.Failure(description: "no reply to the PUB")
            }
            return line
        }
        try #require(reply.hasPrefix("ERR 503 ") && reply.contains("outcome unknown"), "\(reply)")

        // The lock is released: the row commits (the statement was still waiting for the lock).
        _ = try holder.query("COMMIT")
        let deadline = ContinuousClock.now + .seconds(30)
        var committed = false
        while !committed && ContinuousClock.now < deadline {
            committed = try holder.query("SELECT 1 FROM messages WHERE topic = '\(Self.topic)'").rowCount == 1
            if !committed { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(committed, "the stalled publish never committed: nothing to check")

        // Nothing else is published: the writer must route the row by itself.
        let delivered =
            try await ProcessClient.onThread {
                guard case .message(let delivery)? = try subscriber.nextFrame(timeout: .seconds(30)) else { return nil }
                return delivery
            } as ProcessClient.Delivery?
        #expect(delivered?.topic == Self.topic)
        #expect(delivered?.payload == payload)
        await daemon.stop()
    }
}
