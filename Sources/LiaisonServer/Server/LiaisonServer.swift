public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
import Postgres
public import ServiceLifecycle

/// The Liaison daemon's TCP server as a swift-service-lifecycle `Service`.
///
/// `run()` binds, serves until graceful shutdown is triggered (SIGTERM/SIGINT through the
/// `ServiceGroup`), then stops accepting, lets every pending publish commit and be answered,
/// closes the connections and stops its storage threads.
public final class LiaisonServer: Service, Sendable {
    private let configuration: ServerConfiguration
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let boundAddress = NIOLockedValueBox<SocketAddress?>(nil)
    /// What the server has done since ``run()`` started (connections, publishes, catch-ups).
    public let counters = ServerCounters()
    private let ready = NIOLockedValueBox<[CheckedContinuation<SocketAddress, any Error>]>([])

    /// Creates the server; nothing is opened until ``run()``.
    ///
    /// - Parameters:
    ///   - configuration: Addresses, database and limits.
    ///   - logger: Where connection and storage events go.
    public init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopThreads))
    }

    /// The address the listener is bound to, once ``run()`` has bound it (useful with port 0).
    ///
    /// - Throws: `CancellationError` if the task is cancelled while waiting.
    public func listeningAddress() async throws -> SocketAddress {
        if let address = self.boundAddress.withLockedValue({ $0 }) { return address }
        return try await withCheckedThrowingContinuation { continuation in
            let address = self.boundAddress.withLockedValue { address -> SocketAddress? in
                if address == nil { self.ready.withLockedValue { $0.append(continuation) } }
                return address
            }
            if let address { continuation.resume(returning: address) }
        }
    }

    /// Serves until graceful shutdown or cancellation.
    ///
    /// - Throws: When the port cannot be bound (e.g. `EADDRINUSE`); a database outage does not throw
    ///   (publishes get `ERR 503` and the storage threads reconnect by themselves).
    public func run() async throws {
        let databaseURL = self.configuration.databaseURL
        let connect: @Sendable () throws -> Connection = { try Connection(databaseURL) }
        let writerWorker = PostgresWorker(name: "liaison-writer", connect: connect)
        let readPool = PostgresPool(
            name: "liaison-read",
            size: max(1, self.configuration.readPoolSize),
            connect: connect
        )
        let router = Router()
        let writer = GroupCommitWriter(
            worker: writerWorker,
            router: router,
            logger: self.logger,
            maxBatchCount: self.configuration.maxBatchCount,
            dedupeWindowSeconds: self.configuration.dedupeWindowSeconds
        )
        let shared = SessionContext(
            writer: writer,
            router: router,
            readPool: readPool,
            limits: self.configuration.limits,
            nodeName: self.configuration.nodeName,
            logger: self.logger,
            registry: ConnectionRegistry(),
            ids: IDGenerator(),
            counters: self.counters,
            durables: DurableRegistry()
        )
        let channel: any Channel
        do {
            channel = try await self.bootstrap(shared).bind(
                host: self.configuration.host,
                port: self.configuration.port
            ).get()
        } catch {
            readPool.shutdown()
            writerWorker.shutdown()
            try? await self.group.shutdownGracefully()
            throw error
        }
        let address = channel.localAddress!
        self.logger.info("listening", metadata: ["address": "\(address)"])
        self.boundAddress.withLockedValue { $0 = address }
        for continuation in self.ready.withLockedValue({ list in
            defer { list = [] }
            return list
        }) {
            continuation.resume(returning: address)
        }

        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            self.logger.info("shutting down: no new connections")
            channel.close(promise: nil)
        }
        await self.drain(shared)
        readPool.shutdown()
        writerWorker.shutdown()
        try? await self.group.shutdownGracefully()
        self.logger.info("stopped")
    }

    private func bootstrap(_ shared: SessionContext) -> ServerBootstrap {
        let limits = self.configuration.limits
        return ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(low: max(1, limits.highWaterMark / 2), high: max(2, limits.highWaterMark))
            )
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let remote = channel.remoteAddress.map { "\($0)" } ?? "?"
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(
                        IdleStateHandler(readTimeout: .milliseconds(limits.pingIntervalMilliseconds))
                    )
                    try sync.addHandler(
                        ByteToMessageHandler(
                            LineFrameDecoder(maxLineLength: limits.maxLineLength, maxPayload: limits.maxPayload),
                            maximumBufferSize: limits.maxLineLength + limits.maxPayload + 64
                        )
                    )
                    try sync.addHandler(ClientSession(shared: shared, remote: remote))
                }
            }
    }

    /// Lets pending commits finish and be answered, then closes every connection.
    private func drain(_ shared: SessionContext) async {
        for channel in shared.registry.all {
            channel.pipeline.handler(type: ClientSession.self).whenSuccess { $0.drain() }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            shared.writer.whenDrained { continuation.resume() }
        }
        // Give replies a moment to leave, then close whatever is still open.
        let deadline = NIODeadline.now() + .milliseconds(self.configuration.shutdownGraceMilliseconds)
        while shared.registry.count > 0 && NIODeadline.now() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for channel in shared.registry.all { try? await channel.close() }
    }
}
