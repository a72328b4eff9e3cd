import Foundation
import LiaisonClient
import LiaisonCore
import LiaisonServer
import LiaisonStore
import Logging
import NIOCore
import Postgres
import ServiceLifecycle
import TestSupport

/// The real daemon server on a free port of 127.0.0.1, on a real database, for one test body;
/// shut down gracefully at the end (the pattern of hummingbird's Tests/HummingbirdCoreTests/TestUtils.swift).
struct TestDaemon {
    let port: Int
    let tokens: [String: String]
    /// The server's running totals.
    let counters: ServerCounters

    /// Accounts every end-to-end test can use.
    static let accounts = ["ohchr", "unhcr", "undp", "unhcr-mm-sittwe", "undp-ba-sarajevo"]

    /// Creates the accounts of ``accounts`` (once per database) and returns a fresh token for each.
    static func seed(_ db: TestDatabase) throws -> [String: String] {
        let c = try db.connect()
        let store = Accounts()
        for name in ["ohchr", "unhcr", "undp"] where try store.find(name, on: c) == nil {
            try store.add(Account(name: name, kind: .entity), on: c)
        }
        if try store.find("unhcr-mm-sittwe", on: c) == nil {
            try store.add(Account(name: "unhcr-mm-sittwe", kind: .office, parent: "unhcr", country: "mm"), on: c)
            try store.add(Account(name: "undp-ba-sarajevo", kind: .office, parent: "undp", country: "ba"), on: c)
        }
        // The general tests publish and read across the network: give their accounts broad rules.
        // The permission tests use accounts of their own with the documented defaults.
        for name in accounts {
            try AccessRules().grant(
                account: name,
                rule: AccessRule(action: .publish, effect: .allow, pattern: try TopicPattern(">")),
                on: c
            )
            try AccessRules().grant(
                account: name,
                rule: AccessRule(action: .subscribe, effect: .allow, pattern: try TopicPattern(">")),
                on: c
            )
        }
        var tokens: [String: String] = [:]
        for name in accounts { tokens[name] = try Credentials().issue(for: name, on: c) }
        return tokens
    }

    /// Runs `body` against a daemon serving `db`.
    ///
    /// - Parameters:
    ///   - limits: Per-connection limits for this daemon.
    ///   - configure: Further changes to the daemon's configuration (a database URL through a
    ///     fault proxy, shorter timeouts).
    static func run<T: Sendable>(
        _ db: TestDatabase,
        limits: ServerConfiguration.Limits = .init(),
        configure: @Sendable (inout ServerConfiguration) -> Void = { _ in },
        _ body: @Sendable (TestDaemon) async throws -> T
    ) async throws -> T {
        try await Self.runWithShutdownHook(db, limits: limits, configure: configure) { daemon, _ in
            try await body(daemon)
        }
    }

    /// Like ``run(_:limits:_:)``, and `body` may trigger graceful shutdown itself (as SIGTERM would).
    static func runWithShutdownHook<T: Sendable>(
        _ db: TestDatabase,
        limits: ServerConfiguration.Limits = .init(),
        configure: @Sendable (inout ServerConfiguration) -> Void = { _ in },
        _ body: @Sendable (TestDaemon, @Sendable () async -> Void) async throws -> T
    ) async throws -> T {
        let tokens = try Self.seed(db)
        var configuration = ServerConfiguration(databaseURL: db.url)
        configuration.port = 0
        configuration.eventLoopThreads = 2
        configuration.readPoolSize = 2
        configuration.limits = limits
        if limits.authTimeoutMilliseconds == ServerConfiguration.Limits().authTimeoutMilliseconds {
            // Tests run in parallel on two cores: an AUTH may take seconds there. Tests of the
            // timeout itself set their own.
            configuration.limits.authTimeoutMilliseconds = 120_000
        }
        configure(&configuration)
        var logger = Logger(label: "liaisond-test")
        logger.logLevel =
            ProcessInfo.processInfo.environment["LIAISON_TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) }
            ?? .warning
        let server = LiaisonServer(configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let address = try await server.listeningAddress()
                let daemon = TestDaemon(port: address.port!, tokens: tokens, counters: server.counters)
                let result = try await body(daemon) { await group.triggerGracefulShutdown() }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                // Stop the daemon before reporting, or the task group would wait on it forever.
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    /// A connected client, authenticated as `account` unless `nil`.
    func client(_ account: String? = "ohchr") async throws -> LiaisonClient {
        let client = try await LiaisonClient.connect(host: "127.0.0.1", port: self.port)
        if let account { try await client.auth(account: account, token: self.tokens[account]!) }
        return client
    }
}

/// Collects the next `count` messages from a client's stream, failing after `timeout`.
///
/// One pump task per client owns the stream's only iterator and buffers what arrives, so a
/// timed-out wait never cancels the stream itself (cancelling an `AsyncStream` iteration ends it).
func collect(_ client: LiaisonClient, count: Int, timeout: Duration = .seconds(20)) async throws -> [ReceivedMessage] {
    let inbox = await Inboxes.shared.inbox(for: client)
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let messages = await inbox.take(count) { return messages }
        try await Task.sleep(for: .milliseconds(5))
    }
    throw TimedOut(expected: count)
}

/// The buffered `MSG` frames of one client.
actor Inbox {
    private var buffer: [ReceivedMessage] = []

    func append(_ message: ReceivedMessage) { self.buffer.append(message) }

    /// The first `count` messages, removed, or `nil` while fewer have arrived.
    func take(_ count: Int) -> [ReceivedMessage]? {
        guard self.buffer.count >= count else { return nil }
        defer { self.buffer.removeFirst(count) }
        return Array(self.buffer.prefix(count))
    }
}

/// One ``Inbox`` per client, created with the task that fills it.
actor Inboxes {
    static let shared = Inboxes()
    // The client is kept with its inbox so its identifier is never reused by a later client.
    private var inboxes: [ObjectIdentifier: (client: LiaisonClient, inbox: Inbox)] = [:]

    func inbox(for client: LiaisonClient) -> Inbox {
        if let entry = self.inboxes[ObjectIdentifier(client)] { return entry.inbox }
        let inbox = Inbox()
        self.inboxes[ObjectIdentifier(client)] = (client, inbox)
        Task {
            for await message in client.messages { await inbox.append(message) }
        }
        return inbox
    }
}

/// Thrown by ``collect(_:count:timeout:)`` when too few messages arrived.
struct TimedOut: Error, CustomStringConvertible {
    var expected: Int
    var description: String { "timed out waiting for \(self.expected) messages" }
}

extension ServerConfiguration.Limits {
    /// The defaults with `change` applied: `.with { $0.replayPageSize = 16 }`.
    static func with(_ change: (inout Self) -> Void) -> Self {
        var limits = Self()
        change(&limits)
        return limits
    }
}
