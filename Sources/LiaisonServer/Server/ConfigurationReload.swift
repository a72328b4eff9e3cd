public import Logging

/// What a configuration reload (`SIGHUP`) changes: the settings that differ between the running
/// configuration and the one just read, which of them apply to the running daemon, which need a
/// restart, and the configuration that runs afterwards. A value with no I/O, decided once and
/// then executed by ``LiaisonServer/apply(_:)`` and `liaisond` (docs/CONFIGURATION.md, "Reload").
///
/// Live settings are those read per use: every `limits.*` and `consumers.*` key (a new connection
/// takes the limits current when it opens; the account-wide publish rate and AUTH throttle change
/// for every connection at once), `log.level`, and the TLS files while the TLS listener stays
/// configured. Everything bound at start (listen addresses, the database, the writer, the
/// services' settings, threads, node name) needs a restart: the running value stays.
public struct ConfigurationReload: Sendable {
    /// Keys whose value changed and that apply now (`limits.maxConnections`, `log.level`).
    public private(set) var applied: [String] = []
    /// Keys whose value changed but that keep their running value until a restart (`listen`).
    public private(set) var restartNeeded: [String] = []
    /// The configuration that runs after the reload: the running one with the live keys replaced.
    public private(set) var configuration: ServerConfiguration
    /// The log level that runs after the reload.
    public private(set) var logLevel: Logger.Level
    /// Whether the TLS context is rebuilt: the TLS listener runs and stays configured, so its
    /// files are read again even when their paths did not change (a renewed certificate is
    /// usually written over the old file).
    public let reloadsTLS: Bool

    /// Decides a reload.
    ///
    /// - Parameters:
    ///   - running: The configuration the daemon runs with.
    ///   - runningLogLevel: Its log level.
    ///   - file: The configuration just read (file, environment and flags, with the same precedence as at start).
    ///   - fileLogLevel: Its log level.
    public init(
        running: ServerConfiguration,
        runningLogLevel: Logger.Level,
        file: ServerConfiguration,
        fileLogLevel: Logger.Level
    ) {
        var next = running
        for setting in Self.settings where setting.value(running) != setting.value(file) {
            if setting.live {
                self.applied.append(setting.key)
            } else {
                self.restartNeeded.append(setting.key)
            }
        }
        next.limits = file.limits
        if runningLogLevel != fileLogLevel { self.applied.append("log.level") }
        switch (running.tls, file.tls) {
        case (let old?, var new?):
            for (key, live) in Self.tlsKeys where Self.tlsValue(key, old) != Self.tlsValue(key, new) {
                if live { self.applied.append(key) } else { self.restartNeeded.append(key) }
            }
            // The listener stays where it is bound.
            (new.host, new.port) = (old.host, old.port)
            next.tls = new
            self.reloadsTLS = true
        case (nil, nil):
            self.reloadsTLS = false
        case (_?, nil), (nil, _?):
            self.restartNeeded.append("tls.certificate")
            self.reloadsTLS = false
        }
        self.configuration = next
        self.logLevel = fileLogLevel
    }

    /// One setting compared on reload: its key (docs/CONFIGURATION.md), whether it applies live,
    /// and its value as text.
    private struct Setting: Sendable {
        var key: String
        var live: Bool
        var value: @Sendable (ServerConfiguration) -> String
    }

    private static func live(_ key: String, _ value: @escaping @Sendable (ServerConfiguration) -> String) -> Setting {
        Setting(key: key, live: true, value: value)
    }

    private static func restart(_ key: String, _ value: @escaping @Sendable (ServerConfiguration) -> String) -> Setting
    {
        Setting(key: key, live: false, value: value)
    }

    /// Every key but `log.level` and `tls.*`, which ``init(running:runningLogLevel:file:fileLogLevel:)`` compares itself.
    private static let settings: [Setting] = [
        restart("listen") { "\($0.host):\($0.port)" },
        restart("plaintext.enabled") { "\($0.plaintextEnabled)" },
        restart("node.name") { $0.nodeName },
        restart("database.url") { $0.databaseURL },
        restart("database.readPoolSize") { "\($0.readPoolSize)" },
        restart("database.callTimeoutMs") { "\($0.storageTimeoutMilliseconds)" },
        restart("database.connectTimeoutSeconds") { "\($0.databaseConnectTimeoutSeconds)" },
        restart("database.keepaliveIdleSeconds") { "\($0.databaseKeepaliveIdleSeconds)" },
        restart("database.tcpUserTimeoutMs") { "\($0.databaseTCPUserTimeoutMilliseconds)" },
        restart("writer.publishTimeoutMs") { "\($0.publishTimeoutMilliseconds)" },
        restart("writer.maxBatch") { "\($0.maxBatchCount)" },
        restart("writer.inFlightBatches") { "\($0.inFlightBatches)" },
        restart("dedupe.windowSeconds") { "\($0.dedupeWindowSeconds)" },
        restart("server.threads") { "\($0.eventLoopThreads)" },
        restart("audit.*") { "\($0.audit)" },
        restart("receipts.*") { "\($0.receipts)" },
        restart("retention.*") { "\($0.retention)" },
        restart("metrics.*") { "\($0.metrics)" },
        live("limits.maxLineLength") { "\($0.limits.maxLineLength)" },
        live("limits.maxPayload") { "\($0.limits.maxPayload)" },
        live("limits.maxSubscriptions") { "\($0.limits.maxSubscriptions)" },
        live("limits.highWaterMark") { "\($0.limits.highWaterMark)" },
        live("limits.replayPageSize") { "\($0.limits.replayPageSize)" },
        live("limits.pingIntervalMs") { "\($0.limits.pingIntervalMilliseconds)" },
        live("limits.maxPingsOutstanding") { "\($0.limits.maxPingsOutstanding)" },
        live("limits.stallTimeoutMs") { "\($0.limits.stallTimeoutMilliseconds)" },
        live("limits.maxConnections") { "\($0.limits.maxConnections)" },
        live("limits.maxConnectionsPerAccount") { "\($0.limits.maxConnectionsPerAccount)" },
        live("limits.publishRatePerSecond") { "\($0.limits.publishRatePerSecond)" },
        live("limits.publishBurst") { "\($0.limits.publishBurst)" },
        live("limits.authFreeFailures") { "\($0.limits.authFreeFailures)" },
        live("limits.authBaseDelayMs") { "\($0.limits.authBaseDelayMilliseconds)" },
        live("limits.authLockoutFailures") { "\($0.limits.authLockoutFailures)" },
        live("limits.authLockoutMs") { "\($0.limits.authLockoutMilliseconds)" },
        live("limits.authTimeoutMs") { "\($0.limits.authTimeoutMilliseconds)" },
        live("limits.idleTimeoutMs") { "\($0.limits.idleTimeoutMilliseconds)" },
        live("consumers.ackWaitMs") { "\($0.limits.ackWaitMilliseconds)" },
        live("consumers.maxDeliver") { "\($0.limits.maxDeliver)" },
        live("consumers.maxInflight") { "\($0.limits.maxInflight)" },
    ]

    /// The `tls.*` keys compared while TLS stays configured, and whether each applies live.
    private static let tlsKeys: [(String, Bool)] = [
        ("tls.listen", false), ("tls.certificate", true), ("tls.privateKey", true), ("tls.clientCA", true),
        ("tls.requireClientCertificate", true),
    ]

    private static func tlsValue(_ key: String, _ tls: TLSSettings) -> String {
        switch key {
        case "tls.listen": "\(tls.host):\(tls.port)"
        case "tls.certificate": tls.certificatePath
        case "tls.privateKey": tls.privateKeyPath
        case "tls.clientCA": tls.clientCAPath ?? ""
        default: "\(tls.requireClientCertificate)"
        }
    }
}
