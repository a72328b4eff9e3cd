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
        var tokens: [String: String] = [:]
        for name in accounts { tokens[name] = try Credentials().issue(for: name, on: c) }
        return tokens
    }

    /// Runs `body` against a daemon serving `db`.
    ///
    /// - Parameters:
    ///   - limits: Per-connection limits for this daemon.
    static func run<T: Sendable>(
        _ db: TestDatabase,
        limits: ServerConfiguration.Limits = .init(),
        _ body: @Sendable (TestDaemon) async throws -> T
    ) async throws -> T {
        let tokens = try Self.seed(db)
        var configuration = ServerConfiguration(databaseURL: db.url)
        configuration.port = 0
        configuration.eventLoopThreads = 2
        configuration.readPoolSize = 2
        configuration.limits = limits
        var logger = Logger(label: "liaisond-test")
        logger.logLevel = .warning
        let server = LiaisonServer(configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let address = try await server.listeningAddress()
                let result = try await body(TestDaemon(port: address.port!, tokens: tokens, counters: server.counters))
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    /// Like ``run(_:configure:_:)``, and `body` may trigger graceful shutdown itself (as SIGTERM would).
    static func runWithShutdownHook<T: Sendable>(
        _ db: TestDatabase,
        _ body: @Sendable (TestDaemon, @Sendable () async -> Void) async throws -> T
    ) async throws -> T {
        let tokens = try Self.seed(db)
        var configuration = ServerConfiguration(databaseURL: db.url)
        configuration.port = 0
        configuration.eventLoopThreads = 2
        var logger = Logger(label: "liaisond-test")
        logger.logLevel = .warning
        let server = LiaisonServer(configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let address = try await server.listeningAddress()
            let result = try await body(TestDaemon(port: address.port!, tokens: tokens, counters: server.counters)) {
                await group.triggerGracefulShutdown()
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }

    /// A connected client, authenticated as `account` unless `nil`.
    func client(_ account: String? = "ohchr") async throws -> LiaisonClient {
        let client = try await LiaisonClient.connect(host: "127.0.0.1", port: self.port)
        if let account { try await client.auth(account: account, token: self.tokens[account]!) }
        return client
    }
}

/// Collects `count` messages from a client's stream, failing after `timeout`.
func collect(_ client: LiaisonClient, count: Int, timeout: Duration = .seconds(20)) async throws -> [ReceivedMessage] {
    try await withThrowingTaskGroup(of: [ReceivedMessage].self) { group in
        group.addTask {
            var got: [ReceivedMessage] = []
            for await message in client.messages {
                got.append(message)
                if got.count == count { break }
            }
            return got
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TimedOut(expected: count)
        }
        let result = try await group.next()!
        group.cancelAll()
        return result
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
