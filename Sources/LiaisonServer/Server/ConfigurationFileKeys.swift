/// The keys `liaisond`'s JSON configuration file may hold (docs/CONFIGURATION.md, the table), and
/// the check that refuses any other: a misspelt key (`limits.maxConection`) would otherwise be
/// ignored and its setting silently keep its default, as nats-server refuses an "unknown field".
///
/// Keys are dotted paths, as swift-configuration's `JSONSnapshot` reads them: `{"limits":
/// {"maxPayload": 1}}` and `{"limits.maxPayload": 1}` are the same key. Only the file is checked:
/// the `LIAISON_*` environment is shared with `liaisonctl` and other tools.
public enum ConfigurationFileKeys {
    /// Every key the daemon reads, in the order of docs/CONFIGURATION.md.
    public static let known: Set<String> = [
        "listen", "plaintext.enabled",
        "tls.listen", "tls.certificate", "tls.privateKey", "tls.clientCA", "tls.requireClientCertificate",
        "node.name",
        "database.url", "database.readPoolSize", "database.callTimeoutMs", "database.connectTimeoutSeconds",
        "database.keepaliveIdleSeconds", "database.tcpUserTimeoutMs",
        "writer.publishTimeoutMs", "writer.maxBatch", "writer.inFlightBatches",
        "dedupe.windowSeconds", "server.threads",
        "limits.maxLineLength", "limits.maxPayload", "limits.maxSubscriptions", "limits.highWaterMark",
        "limits.replayPageSize", "limits.pingIntervalMs", "limits.maxPingsOutstanding", "limits.stallTimeoutMs",
        "limits.maxConnections", "limits.maxConnectionsPerAccount", "limits.publishRatePerSecond",
        "limits.publishBurst", "limits.authFreeFailures", "limits.authBaseDelayMs", "limits.authLockoutFailures",
        "limits.authLockoutMs", "limits.authTimeoutMs", "limits.idleTimeoutMs",
        "consumers.ackWaitMs", "consumers.maxDeliver", "consumers.maxInflight",
        "log.level",
        "audit.enabled", "audit.checkpointMessages", "audit.checkpointSeconds", "audit.sealIntervalMs",
        "audit.signingKeyFile",
        "receipts.enabled", "receipts.flushMs", "receipts.maxQueuedRanges",
        "retention.enabled", "retention.intervalSeconds", "retention.batchSize",
        "metrics.listen", "metrics.heartbeatMs", "metrics.lagIntervalMs", "metrics.lagConsumers",
    ]

    /// A key of the file that the daemon does not read, or a known key given an object.
    public struct Unknown: Sendable, Equatable {
        /// The dotted path (`limits.maxConection`).
        public var key: String
        /// The 1-based line of the file where the key's name is.
        public var line: Int
        /// The known key the name is closest to, when it is a likely misspelling.
        public var suggestion: String?
        /// Whether the key is known but holds an object in place of a value.
        public var isObjectForValue: Bool
    }

    /// The first key of `text` (a JSON object, already known to parse) that is not a setting.
    ///
    /// An object is accepted when it leads to known keys (`limits`); an unknown object is reported
    /// itself, not each key inside it.
    ///
    /// - Returns: `nil` when every key is known.
    public static func firstUnknown(inJSON text: String) -> Unknown? {
        for entry in JSONKeyScanner.entries(of: text) {
            let key = entry.path.joined(separator: ".")
            if Self.known.contains(key) {
                if entry.isObject { return Unknown(key: key, line: entry.line, isObjectForValue: true) }
                continue
            }
            if entry.isObject && Self.known.contains(where: { $0.hasPrefix(key + ".") }) { continue }
            return Unknown(key: key, line: entry.line, suggestion: Self.closest(to: key), isObjectForValue: false)
        }
        return nil
    }

    /// The known key within a few edits of `key` (case aside), preferring the fewest.
    private static func closest(to key: String) -> String? {
        let candidates = Self.known.map { ($0, Self.editDistance($0.lowercased(), key.lowercased())) }
        guard let best = candidates.min(by: { ($0.1, $0.0) < ($1.1, $1.0) }), best.1 <= 3 else { return nil }
        return best.0
    }

    /// Levenshtein distance (insertions, deletions, substitutions), the classic two-row algorithm.
    private static func editDistance(_ a: String, _ b: String) -> Int {
        let (a, b) = (Array(a.utf8), Array(b.utf8))
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
