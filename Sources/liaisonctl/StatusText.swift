/// The table `liaisonctl status` prints: one row per daemon, then why any is not ready or not
/// reachable, then the durable consumers furthest behind (each once: every daemon reports the
/// same database's durables).
enum StatusText {
    /// - Parameters:
    ///   - nodes: The daemons, in the order to show them.
    ///   - top: How many durable consumers to list (each once, however many daemons report it).
    static func render(_ nodes: [NodeStatus], top: Int) -> String {
        guard !nodes.isEmpty else { return "no daemon registered in liaison_nodes" }
        var table = TextTable([
            "NODE", "STATE", "READY", "UPTIME", "CONNECTIONS", "SUBSCRIPTIONS", "PUBLISHED", "DELIVERED",
            "COMMIT_P99", "LISTEN", "METRICS",
        ])
        var notes: [String] = []
        // Every daemon reads the lag of the same durables from the one database: keep each once.
        var lags: [String: NodeStatus.Lag] = [:]
        for node in nodes {
            let name = node.node ?? "?"
            table.append([
                name, node.state.rawValue, node.ready.map { $0 ? "yes" : "no" } ?? "-",
                node.uptimeSeconds.map(Self.duration) ?? "-", Self.cell(node.connections),
                Self.cell(node.subscriptions), Self.cell(node.published), Self.cell(node.delivered),
                node.commitP99Seconds.map { "<= \(Self.milliseconds($0))" } ?? "-", node.listenAddress ?? "-",
                node.metricsAddress ?? "-",
            ])
            switch node.state {
            case .stale:
                let age = node.heartbeatAgeSeconds.map { Self.duration(Int($0)) } ?? "?"
                notes.append("\(name): heartbeat \(age) old: not running?")
            case .unreachable:
                notes.append("\(name): metrics endpoint did not answer: \(node.error ?? "?")")
            case .noEndpoint:
                notes.append("\(name): no metrics endpoint (metrics.listen is not set)")
            case .up:
                for reason in node.readyReasons { notes.append("\(name): not ready: \(reason)") }
            }
            for lag in node.lags {
                lags[lag.account + "\u{0}" + lag.consumer, default: lag].merge(lag)
            }
        }
        var text = table.rendered
        if !notes.isEmpty { text += "\n\n" + notes.joined(separator: "\n") }
        if !lags.isEmpty { text += "\n\ndurable consumers furthest behind:\n" + Self.lagTable(lags.values, top: top) }
        return text
    }

    /// The `top` durables furthest behind, furthest first, then by account and name.
    private static func lagTable(_ lags: some Sequence<NodeStatus.Lag>, top: Int) -> String {
        var table = TextTable(["ACCOUNT", "CONSUMER", "LAG_SEQS", "UNACKED"])
        let sorted = lags.sorted { ($0.lagSeqs, $1.account, $1.consumer) > ($1.lagSeqs, $0.account, $0.consumer) }
        for lag in sorted.prefix(top) {
            table.append([lag.account, lag.consumer, String(lag.lagSeqs), String(lag.unacknowledged)])
        }
        return table.rendered
    }

    private static func cell(_ value: Int?) -> String { value.map(String.init) ?? "-" }

    /// `3d 4h`, `2h 5m`, `1m 20s`, `42s`.
    static func duration(_ seconds: Int) -> String {
        let (days, hours, minutes, rest) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60, seconds % 60)
        if days > 0 { return "\(days)d \(hours)h" }
        if hours > 0 { return "\(hours)h \(minutes)m" }
        if minutes > 0 { return "\(minutes)m \(rest)s" }
        return "\(rest)s"
    }

    private static func milliseconds(_ seconds: Double) -> String {
        let ms = seconds * 1000
        return ms < 10 ? "\((ms * 10).rounded() / 10) ms" : "\(Int(ms.rounded())) ms"
    }
}
