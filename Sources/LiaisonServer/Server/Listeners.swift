import Foundation
import LiaisonCore
import LiaisonStore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The plaintext and TLS listeners as one `Service`: binds, accepts until graceful shutdown,
/// then drains every connection (pending publishes committed and answered, then closed).
///
/// Each accepted connection takes the limits and the TLS context current in
/// ``SessionContext/live`` when it is accepted, so a configuration reload reaches new
/// connections without touching open ones.
struct Listeners: Service {
    let configuration: ServerConfiguration
    let group: MultiThreadedEventLoopGroup
    let shared: SessionContext
    let logger: Logger
    /// Told the bound addresses once both listeners are up.
    let announce: @Sendable (LiaisonServer.BoundAddresses) -> Void

    func run() async throws {
        var channels: [any Channel] = []
        var addresses: LiaisonServer.BoundAddresses = (nil, nil)
        do {
            if self.configuration.plaintextEnabled {
                let channel = try await self.bootstrap(tls: false).bind(
                    host: self.configuration.host,
                    port: self.configuration.port
                ).get()
                channels.append(channel)
                addresses.plaintext = channel.localAddress
                self.logger.info("listening", metadata: ["address": "\(channel.localAddress!)"])
            }
            if let settings = self.configuration.tls, self.shared.live.tlsContext != nil {
                let channel = try await self.bootstrap(tls: true).bind(host: settings.host, port: settings.port).get()
                channels.append(channel)
                addresses.tls = channel.localAddress
                self.logger.info(
                    "listening (TLS)",
                    metadata: ["address": "\(channel.localAddress!)", "mtls": "\(settings.clientCAPath != nil)"]
                )
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        self.announce(addresses)
        let listeners = channels
        await withGracefulShutdownHandler {
            for channel in listeners { try? await channel.closeFuture.get() }
        } onGracefulShutdown: {
            self.logger.info("shutting down: no new connections")
            for channel in listeners { channel.close(promise: nil) }
        }
        await self.drain()
    }

    /// The listener for plaintext connections, or for TLS ones when `tls` is true: then the TLS
    /// handler and ``PeerIdentityHandler`` come first, and the session's greeting (written in
    /// `channelActive`) waits in the TLS handler until the handshake completes.
    private func bootstrap(tls: Bool) -> ServerBootstrap {
        let shared = self.shared
        return ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            // A client that half-closes (nc -q) still gets every reply before the close.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // Each connection keeps its receive buffer between reads: start it small (NIO's
            // default is 2 KiB), since most connections are idle subscribers that read a few
            // short lines; it grows by itself (up to 64 KiB) on a connection that reads more.
            .childChannelOption(
                .recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 65_536)
            )
            .childChannelInitializer { channel in
                let limits = shared.live.limits
                let context = tls ? shared.live.tlsContext : nil
                return channel.eventLoop.makeCompletedFuture {
                    try channel.syncOptions?.setOption(
                        .writeBufferWaterMark,
                        value: .init(low: max(1, limits.highWaterMark / 2), high: max(2, limits.highWaterMark))
                    )
                    let remote =
                        channel.remoteAddress.map { address in
                            address.ipAddress.map { "\($0):\(address.port ?? 0)" } ?? "\(address)"
                        } ?? "?"
                    let sync = channel.pipeline.syncOperations
                    if let context {
                        try sync.addHandler(NIOSSLServerHandler(context: context))
                        try sync.addHandler(PeerIdentityHandler())
                    }
                    try sync.addHandler(ByteCountingHandler(counters: shared.counters))
                    try sync.addHandler(
                        IdleStateHandler(readTimeout: .milliseconds(limits.pingIntervalMilliseconds))
                    )
                    try sync.addHandler(
                        ByteToMessageHandler(
                            LineFrameDecoder(maxLineLength: limits.maxLineLength, maxPayload: limits.maxPayload),
                            maximumBufferSize: limits.maxLineLength + limits.maxPayload + 64
                        )
                    )
                    try sync.addHandler(SessionHandler(shared: shared, remote: remote))
                }
            }
    }

    /// Lets pending commits finish and be answered, then closes every connection.
    private func drain() async {
        for channel in self.shared.registry.all {
            channel.pipeline.handler(type: SessionHandler.self).whenSuccess { $0.drain() }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            self.shared.writer.whenDrained { continuation.resume() }
        }
        // Give replies a moment to leave, then close whatever is still open.
        let deadline = NIODeadline.now() + .milliseconds(self.configuration.shutdownGraceMilliseconds)
        while self.shared.registry.count > 0 && NIODeadline.now() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for channel in self.shared.registry.all { try? await channel.close() }
    }
}

/// The storage threads as a `Service`: nothing to do until shutdown, which it runs last.
struct StorageService: Service {
    /// Ends the threads; blocks until they ended.
    let shutdown: @Sendable () -> Void

    init(storage: PostgresStorage) {
        self.shutdown = { storage.shutdown() }
    }

    /// For the retention service's thread (started before that service, so stopped after it).
    init(retention: PostgresRetention) {
        self.shutdown = { retention.shutdown() }
    }

    func run() async {
        try? await gracefulShutdown()
        let shutdown = self.shutdown
        // `shutdown()` blocks until the libpq threads ended: not on the cooperative pool.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                shutdown()
                continuation.resume()
            }
        }
    }
}

/// Reloads cached permissions once a second when an admin changed them (``AccessControl/poll()``).
struct AccessPoll: Service {
    let access: AccessControl

    func run() async {
        // On the daemon's own executor: a busy global pool must not delay a revocation.
        await withTaskExecutorPreference(StorageExecutor.shared) {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                await self.access.poll()
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
