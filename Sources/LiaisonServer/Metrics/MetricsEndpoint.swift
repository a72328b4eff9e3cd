import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The metrics and health HTTP listener as a `Service`, on an address of its own (never the
/// client port): `/metrics`, `/healthz`, `/readyz`, GET only (docs/OPERATIONS.md, "Metrics").
///
/// Malformed requests get NIOHTTP1's `400` and a close; unknown paths `404`; other methods `405`.
struct MetricsEndpoint: Service {
    let host: String
    let port: Int
    let group: any EventLoopGroup
    let logger: Logger
    /// Computes the answer to a route (may ask the database: runs off the event loop).
    let answer: @Sendable (MetricsRoute) async -> HTTPAnswer
    /// Told the bound address (port 0 picks one).
    let announce: @Sendable (SocketAddress) -> Void

    func run() async throws {
        let answer = self.answer
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMapThrowing {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(MetricsRequestGate())
                    try sync.addHandler(MetricsResponder(answer: answer))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: self.host, port: self.port).get()
        } catch {
            let failure = MetricsEndpointError(host: self.host, port: self.port, underlying: error)
            self.logger.critical("cannot start: \(failure)")
            throw failure
        }
        let address = channel.localAddress!
        // Not "listening": the test harness reads the client port from the line ending so.
        self.logger.info("metrics endpoint bound", metadata: ["metrics.address": "\(address)"])
        self.announce(address)
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

/// Runs `body` every `interval` until graceful shutdown, then `last` once (a `Service`).
///
/// Shutdown does not wait for a `body` still out on a hung database (it ends by its own storage
/// deadline), and waits for `last` at most ``lastWaitLimit``: a frozen database must not hold
/// the daemon's exit past its shutdown deadline (docs/ARCHITECTURE.md, "Services").
struct PeriodicTask: Service {
    let interval: Duration
    let body: @Sendable () async -> Void
    var last: @Sendable () async -> Void = {}
    /// How long shutdown waits for `last`.
    var lastWaitLimit: Duration = .seconds(1)

    func run() async {
        let loop = Task(executorPreference: StorageExecutor.shared) {
            while !Task.isCancelled {
                await self.body()
                try? await Task.sleep(for: self.interval)
            }
        }
        try? await gracefulShutdown()
        loop.cancel()
        await Self.wait(atMost: self.lastWaitLimit, for: self.last)
    }

    /// Returns when `work` finished or `limit` passed, whichever comes first (`work` goes on).
    static func wait(atMost limit: Duration, for work: @escaping @Sendable () async -> Void) async {
        let waiter = NIOLockedValueBox<CheckedContinuation<Void, Never>?>(nil)
        let resume: @Sendable () -> Void = {
            waiter.withLockedValue { continuation in
                continuation?.resume()
                continuation = nil
            }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            waiter.withLockedValue { $0 = continuation }
            Task(executorPreference: StorageExecutor.shared) {
                await work()
                resume()
            }
            Task {
                try? await Task.sleep(for: limit)
                resume()
            }
        }
    }
}

/// The metrics endpoint could not be opened (its port in use, say): names the address and the
/// setting, since the client listener's startup message would name the wrong one.
struct MetricsEndpointError: Error, CustomStringConvertible {
    var host: String
    var port: Int
    var underlying: any Error

    var description: String {
        let reason: String
        if let error = underlying as? IOError {
            reason = String(cString: strerror(error.errnoCode)).lowercased()
        } else {
            reason = "\(underlying)"
        }
        return
            "cannot open the metrics endpoint on \(self.host):\(self.port): \(reason) — set metrics.listen / LIAISON_METRICS_LISTEN"
    }
}
