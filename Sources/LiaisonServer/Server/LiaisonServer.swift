import LiaisonStore
public import Logging
import NIOConcurrencyHelpers
public import NIOCore
import NIOPosix
import NIOSSL
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
    /// What a configuration reload changes while the server runs (``apply(_:)``).
    let live: LiveSettings

    /// The listeners' addresses, once bound: `nil` for a listener that is not configured.
    typealias BoundAddresses = (plaintext: SocketAddress?, tls: SocketAddress?)

    /// Creates the server; nothing is opened until ``run()``.
    ///
    /// - Parameters:
    ///   - configuration: Addresses, database and limits.
    ///   - logger: Where connection and storage events go.
    public init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.live = LiveSettings(limits: configuration.limits)
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
    /// The daemon's long-running parts run as services of one `ServiceGroup`, started in this
    /// order and shut down in the reverse one, each within the grace period: storage threads,
    /// the group-commit writer, the access poll, the listeners (which drain the connections:
    /// pending publishes are committed and answered while the writer still runs).
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
        let configuration = self.configuration
        let signingKey: AuditSigningKey?
        do {
            signingKey = try self.loadSigningKey()
        } catch {
            try? await self.group.shutdownGracefully()
            throw error
        }
        let storage = PostgresStorage(
            databaseURL: configuration.databaseURL,
            readPoolSize: configuration.readPoolSize,
            writerConnections: configuration.inFlightBatches,
            timeouts: DatabaseTimeouts(
                connectSeconds: configuration.databaseConnectTimeoutSeconds,
                statementMilliseconds: max(
                    configuration.publishTimeoutMilliseconds,
                    configuration.storageTimeoutMilliseconds
                ),
                keepaliveIdleSeconds: configuration.databaseKeepaliveIdleSeconds,
                tcpUserTimeoutMilliseconds: configuration.databaseTCPUserTimeoutMilliseconds,
                callMilliseconds: configuration.storageTimeoutMilliseconds
            )
        )
        let router = Router()
        let fanOut = LogFanOut(router: router, storage: storage, logger: self.logger)
        let durables = DurableRegistry(leases: storage)
        let writer = GroupCommitWriter(
            storage: storage,
            router: fanOut,
            logger: self.logger,
            maxBatchCount: configuration.maxBatchCount,
            dedupeWindowSeconds: configuration.dedupeWindowSeconds,
            timeoutMilliseconds: configuration.publishTimeoutMilliseconds,
            inFlightBatches: configuration.inFlightBatches,
            monitor: self.counters.commits
        )
        self.live.update(limits: configuration.limits, tls: tlsContext)
        let shared = SessionContext(
            writer: writer,
            router: router,
            storage: storage,
            live: self.live,
            nodeName: configuration.nodeName,
            publishTimeoutMilliseconds: configuration.publishTimeoutMilliseconds,
            logger: self.logger,
            registry: ConnectionRegistry(),
            ids: IDGenerator(),
            counters: self.counters,
            durables: durables,
            security: SecurityContext(
                access: AccessControl(storage: storage, logger: self.logger),
                throttle: self.live.throttle,
                publishRate: self.live.publishRate,
                events: SecurityEventRecorder(storage: storage, logger: self.logger)
            ),
            receipts: configuration.receipts.enabled
                ? ReceiptRecorder(storage: storage, settings: configuration.receipts, logger: self.logger) : nil
        )
        let listeners = Listeners(
            configuration: configuration,
            group: self.group,
            shared: shared,
            logger: self.logger
        ) { addresses in self.announce(addresses) }
        var serviceConfiguration = ServiceGroupConfiguration(
            services: [
                .init(service: StorageService(storage: storage), serviceName: "storage"),
                .init(service: writer, serviceName: "writer"),
                .init(
                    service: LogFollower(fanOut: fanOut, storage: storage, logger: self.logger),
                    serviceName: "log-follower"
                ),
                .init(
                    service: LeaseWatch(leases: storage, durables: durables, logger: self.logger),
                    serviceName: "lease-watch"
                ),
                .init(service: AccessPoll(access: shared.security.access), serviceName: "access-poll"),
            ] + self.sealerService(storage: storage, key: signingKey) + self.retentionServices()
                + MetricsServices.make(
                    configuration: configuration,
                    storage: storage,
                    group: self.group,
                    counters: self.counters,
                    logger: self.logger
                ) { self.boundAddresses.withLockedValue { $0.flatMap { $0.plaintext ?? $0.tls } } } + [
                    .init(
                        service: listeners,
                        successTerminationBehavior: .gracefullyShutdownGroup,
                        serviceName: "listeners"
                    )
                ],
            logger: self.logger
        )
        if let receipts = shared.receipts {
            // Just before the listeners: it stops after them, so the closing sessions' last
            // ranges are written, and before the storage it writes through.
            let beforeListeners = serviceConfiguration.services.count - 1
            serviceConfiguration.services.insert(.init(service: receipts, serviceName: "receipts"), at: beforeListeners)
        }
        serviceConfiguration.maximumGracefulShutdownDuration = .milliseconds(
            configuration.shutdownGraceMilliseconds + 2 * configuration.publishTimeoutMilliseconds
        )
        let services = ServiceGroup(configuration: serviceConfiguration)
        do {
            try await withGracefulShutdownHandler {
                try await services.run()
            } onGracefulShutdown: {
                Task { await services.triggerGracefulShutdown() }
            }
        } catch {
            try? await self.group.shutdownGracefully()
            throw error
        }
        try? await self.group.shutdownGracefully()
        self.logger.info("stopped")
    }

    /// The log sealer as a service, when enabled: after the writer (it only reads what the
    /// writer committed), stopped before it.
    private func sealerService(
        storage: PostgresStorage,
        key: AuditSigningKey?
    ) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        guard let key else { return [] }
        let sealer = LogSealer(storage: storage, key: key, settings: self.configuration.audit, logger: self.logger)
        return [.init(service: sealer, serviceName: "sealer")]
    }

    /// The retention service and its own storage thread, when enabled: after the sealer (it
    /// purges only what a checkpoint covers).
    private func retentionServices() -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let configuration = self.configuration
        guard configuration.retention.enabled else { return [] }
        let storage = PostgresRetention(
            databaseURL: configuration.databaseURL,
            timeouts: DatabaseTimeouts(
                connectSeconds: configuration.databaseConnectTimeoutSeconds,
                statementMilliseconds: configuration.storageTimeoutMilliseconds,
                keepaliveIdleSeconds: configuration.databaseKeepaliveIdleSeconds,
                tcpUserTimeoutMilliseconds: configuration.databaseTCPUserTimeoutMilliseconds,
                callMilliseconds: configuration.storageTimeoutMilliseconds
            )
        )
        let service = RetentionService(
            storage: storage,
            settings: configuration.retention,
            runBy: "liaisond \(configuration.nodeName)",
            dedupeWindowSeconds: configuration.dedupeWindowSeconds,
            logger: self.logger
        )
        return [
            .init(service: StorageService(retention: storage), serviceName: "retention-storage"),
            .init(service: service, serviceName: "retention"),
        ]
    }

    /// Loads the checkpoint signing key, creating it on first start (docs/AUDIT.md, "Keys").
    ///
    /// - Returns: `nil` when sealing is disabled.
    /// - Throws: ``StoreError`` when the file cannot be read, parsed or created.
    private func loadSigningKey() throws -> AuditSigningKey? {
        let audit = self.configuration.audit
        guard audit.enabled else { return nil }
        let path = audit.signingKeyFile
        let (key, created) = try AuditSigningKey.loadOrCreate(at: path)
        let metadata: Logger.Metadata = ["file": "\(path)", "keyID": "\(key.publicKey.keyID)"]
        if created {
            self.logger.notice("created the audit signing key", metadata: metadata)
        } else if AuditSigningKey.isExposed(path: path) {
            self.logger.warning("the audit signing key file is readable by others: chmod 600 it", metadata: metadata)
        }
        return key
    }

    private func announce(_ addresses: BoundAddresses) {
        self.boundAddresses.withLockedValue { $0 = addresses }
        for continuation in self.ready.withLockedValue({ list in
            defer { list = [] }
            return list
        }) {
            continuation.resume(returning: addresses)
        }
    }
}
