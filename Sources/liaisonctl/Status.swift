import ArgumentParser
import Foundation
import LiaisonStore
import NIOCore

/// `liaisonctl status`: one daemon (`--metrics-url`) or every daemon of a database (from
/// `liaison_nodes`), with what each one's metrics endpoint says (docs/CLI.md, "status").
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show running daemons: readiness, uptime, connections, publishes, commit latency, durable lag.",
        discussion: """
            With --metrics-url, asks that daemon's metrics endpoint. Otherwise reads every daemon's \
            row from liaison_nodes (--database-url or LIAISON_DATABASE_URL) and asks each one's \
            endpoint; a daemon whose heartbeat is stale, that has no endpoint, or whose endpoint \
            does not answer is shown as such.

            Exit status: 0 when every daemon is healthy (up and ready, or with no endpoint but a \
            fresh heartbeat); 1 when any is stale, unreachable or not ready, when no daemon is \
            registered, or when liaison_nodes cannot be read; 64 for usage errors (a malformed \
            --metrics-url, no database URL).
            """
    )

    @Option(
        name: .customLong("metrics-url"),
        help: ArgumentHelp("One daemon's metrics endpoint, e.g. http://127.0.0.1:9464.", valueName: "url")
    )
    var metricsURL: String?

    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "PostgreSQL URL to find every daemon in liaison_nodes (default: $LIAISON_DATABASE_URL).",
            valueName: "url"
        )
    )
    var databaseURL: String?

    @Option(help: ArgumentHelp("Durable consumers to show per daemon, furthest behind first.", valueName: "n"))
    var top = 5

    @Option(
        name: .customLong("stale-after"),
        help: ArgumentHelp("A heartbeat older than this many seconds counts as stale.", valueName: "seconds")
    )
    var staleAfter = 15

    @Flag(help: "Print JSON Lines (one object per daemon) instead of a table.")
    var json = false

    func validate() throws {
        guard self.top >= 0 else { throw ValidationError("--top must be 0 or more") }
        guard self.staleAfter > 0 else { throw ValidationError("--stale-after must be at least 1") }
        if let metricsURL {
            do {
                _ = try MetricsFetch.split(metricsURL)
            } catch {
                throw ValidationError("--metrics-url: \(error)")
            }
        }
    }

    func run() async throws {
        var nodes: [NodeStatus]
        if let metricsURL = self.metricsURL {
            let (host, port) = try MetricsFetch.split(metricsURL)
            nodes = [NodeStatus(metricsAddress: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")]
        } else {
            nodes = try await self.registeredNodes()
        }
        let top = self.top
        nodes = await withTaskGroup(of: (Int, NodeStatus).self) { group in
            for (index, node) in nodes.enumerated() {
                group.addTask { (index, await Self.scrape(node, top: top)) }
            }
            var scraped = nodes
            for await (index, node) in group { scraped[index] = node }
            return scraped
        }
        if self.json {
            for node in nodes { print(JSONLine.encode(node.jsonObject)) }
        } else {
            print(StatusText.render(nodes, top: self.top))
        }
        let unhealthy = nodes.filter { !$0.isHealthy }
        guard !nodes.isEmpty else { throw CLIFailure("no daemon registered in liaison_nodes") }
        guard unhealthy.isEmpty else {
            let names = unhealthy.map { node in
                "\(node.node ?? node.metricsAddress ?? "?") (\(node.state == .up ? "not ready" : node.state.rawValue))"
            }
            throw CLIFailure(
                "\(unhealthy.count) of \(nodes.count) daemons not healthy: \(names.joined(separator: ", "))"
            )
        }
    }

    /// The rows of `liaison_nodes`, marked stale when their heartbeat is older than `--stale-after`.
    private func registeredNodes() async throws -> [NodeStatus] {
        var arguments: [String] = []
        if let databaseURL { arguments = ["--database-url", databaseURL] }
        let database: DatabaseOptions
        do {
            database = try DatabaseOptions.parse(arguments)
        } catch {
            throw ValidationError(
                "no database URL: pass --metrics-url, or --database-url or LIAISON_DATABASE_URL to find every daemon"
            )
        }
        let (records, now) = try await database.run { connection in try NodeRegistry().list(on: connection) }
        let staleAfter = Double(self.staleAfter)
        return records.map { record in
            let age = record.heartbeatAt.map { now.timeIntervalSince($0) }
            var node = NodeStatus(
                node: record.node,
                listenAddress: record.listenAddress,
                metricsAddress: record.metricsAddress,
                version: record.version,
                pid: record.pid,
                heartbeatAgeSeconds: age
            )
            if let age, age > staleAfter {
                node.state = .stale
            } else if record.metricsAddress == nil {
                node.state = .noEndpoint
            }
            return node
        }
    }

    /// Asks the node's endpoint for `/metrics` and `/readyz`, unless it is stale or has none.
    private static func scrape(_ node: NodeStatus, top: Int) async -> NodeStatus {
        var node = node
        guard node.state == .unreachable, let address = node.metricsAddress else { return node }
        do {
            async let metrics = MetricsFetch.get(address, path: "/metrics")
            async let ready = MetricsFetch.get(address, path: "/readyz", timeout: .seconds(10))
            let (text, readiness) = try await (metrics, ready)
            guard text.status == 200 else { throw CLIFailure("/metrics answered HTTP \(text.status)") }
            node.read(metrics: PrometheusText(text.body), ready: readiness, now: Date(), top: top)
        } catch {
            node.state = .unreachable
            node.error = "\(error)"
        }
        return node
    }
}
