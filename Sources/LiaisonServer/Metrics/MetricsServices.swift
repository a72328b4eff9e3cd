import Foundation
import LiaisonStore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Prometheus
import ServiceLifecycle

/// Assembles the daemon's observability services for ``LiaisonServer/run()``: the metrics
/// endpoint (when `metrics.listen` is set), the node heartbeat (`liaison_nodes`) and the
/// durable-lag sampler.
enum MetricsServices {
    /// The services, in the order they start (after storage and the writer, before the listeners).
    ///
    /// - Parameters:
    ///   - configuration: The server's configuration (`metrics.*`, node name, publish timeout).
    ///   - storage: The daemon's storage (health, heartbeat and lag reads).
    ///   - group: The event loops the endpoint runs on.
    ///   - counters: The server's counters and metrics.
    ///   - logger: Where the endpoint's and the heartbeat's events go.
    ///   - clientAddress: The client listener's bound address, `nil` until it is bound.
    static func make(
        configuration: ServerConfiguration,
        storage: any NodeHealthStorage,
        group: any EventLoopGroup,
        counters: ServerCounters,
        logger: Logger,
        clientAddress: @escaping @Sendable () -> SocketAddress?
    ) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let settings = configuration.metrics
        let metrics = counters.metrics
        let startedAt = Date()
        metrics.started(
            atUnixSeconds: startedAt.timeIntervalSince1970,
            node: configuration.nodeName,
            version: settings.version
        )
        let metricsAddress = NIOLockedValueBox<SocketAddress?>(nil)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let listen = settings.listen {
            let publishTimeout = Duration.milliseconds(configuration.publishTimeoutMilliseconds)
            let endpoint = MetricsEndpoint(
                host: listen.host,
                port: listen.port,
                group: group,
                logger: logger,
                answer: { route in
                    await Self.answer(route, storage: storage, counters: counters, publishTimeout: publishTimeout)
                },
                announce: { address in metricsAddress.withLockedValue { $0 = address } }
            )
            // A port in use: shut the group down gracefully (the listeners drain and return), not
            // by cancellation, which the listeners' wait for their channels does not observe.
            services.append(
                .init(service: endpoint, failureTerminationBehavior: .gracefullyShutdownGroup, serviceName: "metrics")
            )
        }
        let node = configuration.nodeName
        let record: @Sendable () -> NodeRecord? = {
            guard let client = clientAddress() else { return nil }
            return NodeRecord(
                node: node,
                host: ProcessInfo.processInfo.hostName,
                listenAddress: Self.text(client),
                metricsAddress: metricsAddress.withLockedValue { $0 }.map(Self.text),
                pid: Int(ProcessInfo.processInfo.processIdentifier),
                version: settings.version,
                startedAt: startedAt
            )
        }
        let failures = NIOLockedValueBox(0)
        let heartbeat = PeriodicTask(
            interval: .milliseconds(settings.heartbeatMilliseconds),
            body: {
                guard let record = record() else { return }
                do {
                    try await storage.heartbeat(record)
                    failures.withLockedValue { $0 = 0 }
                } catch {
                    // One warning per outage, not one per beat.
                    if failures.withLockedValue({ count in
                        count += 1
                        return count == 1
                    }) {
                        logger.warning("node heartbeat failed: \(StoreError.wrap(error).message)")
                    }
                }
            },
            last: {
                guard let record = record() else { return }
                try? await storage.removeNode(record)
            }
        )
        services.append(.init(service: heartbeat, serviceName: "node-heartbeat"))
        let lag = PeriodicTask(interval: .milliseconds(settings.lagIntervalMilliseconds)) {
            if let lags = try? await storage.mostLaggingConsumers(limit: settings.lagConsumers) {
                metrics.update(lags: lags)
            }
        }
        services.append(.init(service: lag, serviceName: "durable-lag"))
        return services
    }

    /// `HOST:PORT` of a bound address (`[::1]:9464` for IPv6).
    static func text(_ address: SocketAddress) -> String {
        let host = address.ipAddress ?? "?"
        let port = address.port ?? 0
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The answer to one route.
    static func answer(
        _ route: MetricsRoute,
        storage: any NodeHealthStorage,
        counters: ServerCounters,
        publishTimeout: Duration
    ) async -> HTTPAnswer {
        switch route {
        case .metrics:
            counters.metrics.update(connections: storage.connectionStatistics)
            var answer = HTTPAnswer(
                status: .ok,
                headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                body: []
            )
            counters.metrics.registry.emit(into: &answer.body)
            return answer
        case .health:
            return .text(.ok, "ok\n")
        case .ready:
            let readiness = await Readiness.check(
                storage: storage,
                commits: counters.commits,
                publishTimeout: publishTimeout
            )
            if readiness.isReady { return .text(.ok, "ready\n") }
            return .text(.serviceUnavailable, readiness.failures.map { $0 + "\n" }.joined())
        }
    }
}
