/// The table `liaisonctl status` prints: one row per daemon, then why any is not ready or not
/// reachable, then the durable consumers furthest behind.
enum StatusText {
    static func render(_ nodes: [NodeStatus]) -> String {
        guard !nodes.isEmpty else { return "no daemon registered in liaison_nodes" }
        var table = TextTable([
            "NODE", "STATE", "READY", "UPTIME", "CONNECTIONS", "SUBSCRIPTIONS", "PUBLISHED", "DELIVERED",
            "COMMIT_P99", "LISTEN", "METRICS",
        ])
        var notes: [String] = []
        var lags = TextTable(["NODE", "ACCOUNT", "CONSUMER", "LAG_SEQS", "UNACKED"])
        var anyLag = false
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
                anyLag = true
                lags.append([name, lag.account, lag.consumer, String(lag.lagSeqs), String(lag.unacknowledged)])
            }
        }
        var text = table.rendered
        if !notes.isEmpty { text += "\n\n" + notes.joined(separator: "\n") }
        if anyLag { text += "\n\ndurable consumers furthest behind:\n" + lags.rendered }
        return text
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
