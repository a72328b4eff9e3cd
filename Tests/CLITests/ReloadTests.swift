import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `SIGHUP` against a real `liaisond`: a valid changed file applies its live limits without
/// dropping a connection; an invalid one is refused with its error and the old limits stay.
@Suite(.cliDatabase, .serialized)
struct ReloadTests {
    /// The daemon's configuration file, in a folder of the test's own.
    private final class ConfigFile: Sendable {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("liaisond-reload-\(UUID()).json")

        func write(_ text: String) throws {
            try Data(text.utf8).write(to: self.url, options: .atomic)
        }

        deinit { try? FileManager.default.removeItem(at: self.url) }
    }

    /// Sends SIGHUP and waits until the daemon logged the outcome (`configuration reloaded` or
    /// `configuration reload refused`) for the `count`-th time.
    private static func hangUp(_ daemon: Daemon, count: Int) async throws -> String {
        kill(daemon.pid, SIGHUP)
        for _ in 0..<200 {
            let log = daemon.logText
            let outcomes =
                log.components(separatedBy: "configuration reloaded").count
                + log.components(separatedBy: "configuration reload refused").count - 2
            if outcomes >= count { return log }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw DaemonFailure(description: "no reload outcome logged after SIGHUP:\n\(daemon.logText)")
    }

    /// The refusals logged, each an `error` line with `code=64`.
    private static func refusals(in log: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter {
            $0.contains("configuration reload refused") && $0.contains(" error ") && $0.contains("code=64")
        }
    }

    /// A connection of `account`: the reply to its AUTH (`OK AUTH …` or `ERR 429 …`).
    private static func connect(_ daemon: Daemon, token: String) async throws -> (ProcessClient, String) {
        try await ProcessClient.onThread {
            let client = try ProcessClient(port: daemon.port)
            return (client, try client.command("AUTH ohchr \(token)"))
        }
    }

    /// Publishes one message on `publisher` and reads it on `subscriber` (subscribed to `hq.>`).
    private static func deliver(
        _ text: String,
        from publisher: ProcessClient,
        to subscriber: ProcessClient
    ) async throws
        -> String?
    {
        try await ProcessClient.onThread {
            let reply = try publisher.command("PUB hq.ohchr.reload \(text.utf8.count)\n\(text)")
            guard reply.hasPrefix("OK PUB ") else { return "publish answered \(reply)" }
            guard case .message(let delivery)? = try subscriber.nextFrame(timeout: .seconds(10)) else { return nil }
            return String(decoding: delivery.payload, as: UTF8.self)
        }
    }

    @Test func aValidFileRaisesALimitAndKeepsTheSubscriberReceiving() async throws {
        let token = try #require(try await Daemon.issueTokens(for: ["ohchr"])["ohchr"])
        let file = ConfigFile()
        // node.name comes from the daemon's --node-name flag too: the flag keeps precedence.
        try file.write(#"{"node": {"name": "from-file"}, "limits": {"maxConnectionsPerAccount": 2}}"#)
        let daemon = try await Daemon(
            databaseURL: try CLIDatabase.currentURL(),
            arguments: ["--config", file.url.path]
        )
        defer { Task { await daemon.stop() } }

        let (subscriber, subscribed) = try await Self.connect(daemon, token: token)
        #expect(subscribed == "OK AUTH ohchr")
        #expect(try await ProcessClient.onThread { try subscriber.command("SUB s hq.>") } == "OK SUB s")
        let (publisher, published) = try await Self.connect(daemon, token: token)
        #expect(published == "OK AUTH ohchr")
        let (_, third) = try await Self.connect(daemon, token: token)
        #expect(third.hasPrefix("ERR 429"), "a third connection before the reload: \(third)")

        try file.write(
            #"{"node": {"name": "from-file"}, "log": {"level": "debug"}, "writer": {"maxBatch": 64}, "limits": {"maxConnectionsPerAccount": 3}}"#
        )
        let log = try await Self.hangUp(daemon, count: 1)
        #expect(log.contains("configuration reloaded: limits.maxConnectionsPerAccount, log.level"), "\(log)")
        #expect(log.contains("writer.maxBatch changed: restart needed"), "\(log)")
        #expect(!log.contains("node.name changed"), "the flag's node name should still win: \(log)")
        #expect(daemon.isRunning)

        let (_, admitted) = try await Self.connect(daemon, token: token)
        #expect(admitted == "OK AUTH ohchr", "a third connection after the reload: \(admitted)")
        #expect(try await Self.deliver("after reload", from: publisher, to: subscriber) == "after reload")
        let greeting = try await ProcessClient.onThread { try ProcessClient(port: daemon.port).greeting }
        #expect(greeting.contains("node=clitest"), "\(greeting)")
    }

    @Test func anInvalidFileIsRefusedAndTheOldLimitStays() async throws {
        let token = try #require(try await Daemon.issueTokens(for: ["ohchr"])["ohchr"])
        let file = ConfigFile()
        try file.write(#"{"limits": {"maxConnectionsPerAccount": 2}}"#)
        let daemon = try await Daemon(
            databaseURL: try CLIDatabase.currentURL(),
            arguments: ["--config", file.url.path]
        )
        defer { Task { await daemon.stop() } }
        let (subscriber, _) = try await Self.connect(daemon, token: token)
        #expect(try await ProcessClient.onThread { try subscriber.command("SUB s hq.>") } == "OK SUB s")
        let (publisher, _) = try await Self.connect(daemon, token: token)

        try file.write(#"{"limits": {"maxConnectionsPerAccount": 0}}"#)
        var log = try await Self.hangUp(daemon, count: 1)
        var refusals = Self.refusals(in: log)
        #expect(refusals.count == 1, "\(log)")
        #expect(
            refusals.first?.hasSuffix(
                "the running settings stay: configuration error (limits.maxConnectionsPerAccount): 0 is outside 1...1000000"
            ) == true,
            "\(log)"
        )
        try file.write(#"{"limits": {"maxConnectionsPerAccount": 5"#)
        log = try await Self.hangUp(daemon, count: 2)
        refusals = Self.refusals(in: log)
        #expect(refusals.count == 2, "\(log)")
        #expect(refusals.last?.contains("configuration error (file):") == true, "\(log)")
        #expect(daemon.isRunning)

        let (_, third) = try await Self.connect(daemon, token: token)
        #expect(third.hasPrefix("ERR 429"), "the old limit of 2 should still apply: \(third)")
        #expect(try await Self.deliver("still serving", from: publisher, to: subscriber) == "still serving")
    }
}
