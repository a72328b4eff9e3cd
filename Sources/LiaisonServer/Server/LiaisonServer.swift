public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
import NIOSSL
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
    private let boundAddresses = NIOLockedValueBox<BoundAddresses?>(nil)
    /// What the server has done since ``run()`` started (connections, publishes, catch-ups).
    public let counters = ServerCounters()
    private let ready = NIOLockedValueBox<[CheckedContinuation<BoundAddresses, any Error>]>([])

    /// The listeners' addresses, once bound: `nil` for a listener that is not configured.
    private typealias BoundAddresses = (plaintext: SocketAddress?, tls: SocketAddress?)

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

    /// The address the plaintext listener is bound to, once ``run()`` has bound it (useful with
    /// port 0); the TLS listener's when the plaintext one is disabled.
    ///
    /// - Throws: `CancellationError` if the task is cancelled while waiting.
    public func listeningAddress() async throws -> SocketAddress {
        let addresses = try await self.bound()
        // run() binds at least one listener, so one of the two is set.
        return (addresses.plaintext ?? addresses.tls)!
    }

    /// The address the TLS listener is bound to, once ``run()`` has bound it (useful with port 0).
    ///
    /// - Returns: The address, or `nil` when ``ServerConfiguration/tls`` is not set.
    /// - Throws: `CancellationError` if the task is cancelled while waiting.
    public func tlsListeningAddress() async throws -> SocketAddress? {
        try await self.bound().tls
    }

    private func bound() async throws -> BoundAddresses {
        if let addresses = self.boundAddresses.withLockedValue({ $0 }) { return addresses }
        return try await withCheckedThrowingContinuation { continuation in
            let addresses = self.boundAddresses.withLockedValue { addresses -> BoundAddresses? in
                if addresses == nil { self.ready.withLockedValue { $0.append(continuation) } }
                return addresses
            }
            if let addresses { continuation.resume(returning: addresses) }
        }
    }

    /// Serves until graceful shutdown or cancellation.
    ///
    /// - Throws: When a port cannot be bound (e.g. `EADDRINUSE`); ``TLSSettingsError`` when the TLS
    ///   files cannot be used; `ChannelError.inappropriateOperationForState` when the plaintext
    ///   listener is disabled and TLS is not configured. A database outage does not throw (publishes
    ///   get `ERR 503` and the storage threads reconnect by themselves).
    public func run() async throws {
        let tlsContext: NIOSSLContext?
        do {
            tlsContext = try self.configuration.tls?.makeServerContext()
            guard self.configuration.plaintextEnabled || tlsContext != nil else {
                throw ChannelError.inappropriateOperationForState
            }
        } catch {
            try? await self.group.shutdownGracefully()
            throw error
        }
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
            durables: DurableRegistry(),
            security: SecurityContext(
                access: AccessControl(executor: readPool, logger: self.logger),
                throttle: AuthThrottle(
                    policy: .init(
                        freeFailures: self.configuration.limits.authFreeFailures,
                        baseDelayMilliseconds: self.configuration.limits.authBaseDelayMilliseconds,
                        lockoutFailures: self.configuration.limits.authLockoutFailures,
                        lockoutMilliseconds: self.configuration.limits.authLockoutMilliseconds
                    )
                ),
                publishRate: RateLimiter(
                    ratePerSecond: self.configuration.limits.publishRatePerSecond,
                    burst: self.configuration.limits.publishBurst
                ),
                events: SecurityEventRecorder(executor: readPool, logger: self.logger)
            )
        )
        var channels: [any Channel] = []
        var addresses: BoundAddresses = (nil, nil)
        do {
            if self.configuration.plaintextEnabled {
                let channel = try await self.bootstrap(shared, tls: nil).bind(
                    host: self.configuration.host,
                    port: self.configuration.port
                ).get()
                channels.append(channel)
                addresses.plaintext = channel.localAddress
                self.logger.info("listening", metadata: ["address": "\(channel.localAddress!)"])
            }
            if let tls = self.configuration.tls, let tlsContext {
                let channel = try await self.bootstrap(shared, tls: tlsContext).bind(host: tls.host, port: tls.port)
                    .get()
                channels.append(channel)
                addresses.tls = channel.localAddress
                self.logger.info(
                    "listening (TLS)",
                    metadata: ["address": "\(channel.localAddress!)", "mtls": "\(tls.clientCAPath != nil)"]
                )
            }
        } catch {
            for channel in channels { try? await channel.close() }
            readPool.shutdown()
            writerWorker.shutdown()
            try? await self.group.shutdownGracefully()
            throw error
        }
        self.boundAddresses.withLockedValue { $0 = addresses }
        for continuation in self.ready.withLockedValue({ list in
            defer { list = [] }
            return list
        }) {
            continuation.resume(returning: addresses)
        }

        // Admins' rule and clearance changes reach live connections within about a second.
        let access = shared.security.access
        let accessPoll = self.group.next().scheduleRepeatedTask(initialDelay: .zero, delay: .seconds(1)) { _ in
            access.poll()
        }
        let listeners = channels
        await withGracefulShutdownHandler {
            for channel in listeners { try? await channel.closeFuture.get() }
        } onGracefulShutdown: {
            self.logger.info("shutting down: no new connections")
            for channel in listeners { channel.close(promise: nil) }
        }
        accessPoll.cancel()
        await self.drain(shared)
        readPool.shutdown()
        writerWorker.shutdown()
        try? await self.group.shutdownGracefully()
        self.logger.info("stopped")
    }

    /// The listener for plaintext connections, or for TLS ones when `tls` is given: then the TLS
    /// handler and ``PeerIdentityHandler`` come first, and the session's greeting (written in
    /// `channelActive`) waits in the TLS handler until the handshake completes.
    private func bootstrap(_ shared: SessionContext, tls: NIOSSLContext?) -> ServerBootstrap {
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
                    let remote =
                        channel.remoteAddress.map { address in
                            address.ipAddress.map { "\($0):\(address.port ?? 0)" } ?? "\(address)"
                        } ?? "?"
                    let sync = channel.pipeline.syncOperations
                    if let tls {
                        try sync.addHandler(NIOSSLServerHandler(context: tls))
                        try sync.addHandler(PeerIdentityHandler())
                    }
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
