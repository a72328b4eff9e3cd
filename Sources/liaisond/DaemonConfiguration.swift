import Configuration
import Foundation
import LiaisonServer
import Logging
import SystemPackage

/// Reads the daemon's settings from, in order of precedence: command-line flags, `LIAISON_*`
/// environment variables, the JSON configuration file, built-in defaults (docs/CONFIGURATION.md).
struct DaemonConfiguration: Sendable {
    var server: ServerConfiguration
    var logLevel: Logger.Level

    /// An error in the configuration, with the key it concerns.
    struct Invalid: Error, CustomStringConvertible {
        var key: String
        var message: String
        var description: String { "configuration error (\(self.key)): \(self.message)" }
    }

    /// Loads and checks the configuration.
    ///
    /// - Parameters:
    ///   - file: The JSON file; a missing file is allowed only when `fileIsOptional`.
    ///   - overrides: Values given as flags, keyed like the file (`database.url`, `listen`).
    /// - Throws: ``Invalid`` for a bad or missing value, or the file provider's error for malformed JSON.
    static func load(
        file: String,
        fileIsOptional: Bool,
        overrides: [String: String]
    ) async throws -> DaemonConfiguration {
        var flagValues: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in overrides {
            flagValues[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = .init(
                .string(value),
                isSecret: false
            )
        }
        let read = try Self.contentsBeforeParsing(file)
        let fileProvider: FileProvider<JSONSnapshot>
        do {
            fileProvider = try await FileProvider<JSONSnapshot>(filePath: FilePath(file), allowMissing: fileIsOptional)
        } catch {
            throw Invalid(key: "file", message: "\(file) could not be read as JSON: \(Self.describe(error))")
        }
        try Self.refuseUnknownKeys(in: file, read: read)
        let reader = ConfigReader(providers: [
            InMemoryProvider(name: "flags", values: flagValues),
            EnvironmentVariablesProvider().prefixKeys(with: "liaison"),
            fileProvider,
        ])

        guard let databaseURL = reader.string(forKey: "database.url", isSecret: true), !databaseURL.isEmpty else {
            throw Invalid(
                key: "database.url",
                message: "no database: pass --database-url, set LIAISON_DATABASE_URL, or set database.url in \(file)"
            )
        }
        var server = ServerConfiguration(databaseURL: databaseURL)
        let listen = reader.string(forKey: "listen", default: "127.0.0.1:7420")
        (server.host, server.port) = try Self.parseListen(listen)
        server.nodeName = reader.string(forKey: "node.name", default: server.nodeName)
        server.readPoolSize = try Self.int(reader, "database.readPoolSize", server.readPoolSize, 1...64)
        server.maxBatchCount = try Self.int(reader, "writer.maxBatch", server.maxBatchCount, 1...100_000)
        server.inFlightBatches = try Self.int(reader, "writer.inFlightBatches", server.inFlightBatches, 1...8)
        server.dedupeWindowSeconds = try Self.int64(
            reader,
            "dedupe.windowSeconds",
            server.dedupeWindowSeconds,
            0...Int(Int32.max)
        )
        server.eventLoopThreads = try Self.int(reader, "server.threads", server.eventLoopThreads, 1...256)
        server.publishTimeoutMilliseconds = try Self.int64(
            reader,
            "writer.publishTimeoutMs",
            server.publishTimeoutMilliseconds,
            100...600_000
        )
        server.storageTimeoutMilliseconds = try Self.int64(
            reader,
            "database.callTimeoutMs",
            server.storageTimeoutMilliseconds,
            100...600_000
        )
        server.databaseConnectTimeoutSeconds = try Self.int(
            reader,
            "database.connectTimeoutSeconds",
            server.databaseConnectTimeoutSeconds,
            2...600
        )
        server.databaseKeepaliveIdleSeconds = try Self.int(
            reader,
            "database.keepaliveIdleSeconds",
            server.databaseKeepaliveIdleSeconds,
            1...7200
        )
        server.databaseTCPUserTimeoutMilliseconds = try Self.int(
            reader,
            "database.tcpUserTimeoutMs",
            server.databaseTCPUserTimeoutMilliseconds,
            0...600_000
        )
        var limits = server.limits
        limits.maxLineLength = try Self.int(reader, "limits.maxLineLength", limits.maxLineLength, 256...1 << 20)
        limits.maxPayload = try Self.int(reader, "limits.maxPayload", limits.maxPayload, 0...64 << 20)
        limits.maxSubscriptions = try Self.int(reader, "limits.maxSubscriptions", limits.maxSubscriptions, 1...100_000)
        limits.highWaterMark = try Self.int(reader, "limits.highWaterMark", limits.highWaterMark, 4096...1 << 30)
        limits.replayPageSize = try Self.int(reader, "limits.replayPageSize", limits.replayPageSize, 1...100_000)
        limits.pingIntervalMilliseconds = try Self.int64(
            reader,
            "limits.pingIntervalMs",
            limits.pingIntervalMilliseconds,
            100...3_600_000
        )
        limits.maxPingsOutstanding = try Self.int(
            reader,
            "limits.maxPingsOutstanding",
            limits.maxPingsOutstanding,
            1...100
        )
        limits.stallTimeoutMilliseconds = try Self.int64(
            reader,
            "limits.stallTimeoutMs",
            limits.stallTimeoutMilliseconds,
            100...86_400_000
        )
        limits.ackWaitMilliseconds = try Self.int64(
            reader,
            "consumers.ackWaitMs",
            limits.ackWaitMilliseconds,
            1...86_400_000
        )
        limits.maxDeliver = try Self.int(reader, "consumers.maxDeliver", limits.maxDeliver, 1...1000)
        limits.maxInflight = try Self.int(reader, "consumers.maxInflight", limits.maxInflight, 1...100_000)
        limits.maxConnections = try Self.int(reader, "limits.maxConnections", limits.maxConnections, 1...1_000_000)
        limits.maxConnectionsPerAccount = try Self.int(
            reader,
            "limits.maxConnectionsPerAccount",
            limits.maxConnectionsPerAccount,
            1...1_000_000
        )
        limits.publishRatePerSecond = Double(
            try Self.int(reader, "limits.publishRatePerSecond", Int(limits.publishRatePerSecond), 0...10_000_000)
        )
        limits.publishBurst = Double(
            try Self.int(reader, "limits.publishBurst", Int(limits.publishBurst), 1...10_000_000)
        )
        limits.authFreeFailures = try Self.int(reader, "limits.authFreeFailures", limits.authFreeFailures, 0...1000)
        limits.authBaseDelayMilliseconds = try Self.int64(
            reader,
            "limits.authBaseDelayMs",
            limits.authBaseDelayMilliseconds,
            0...60_000
        )
        limits.authLockoutFailures = try Self.int(
            reader,
            "limits.authLockoutFailures",
            limits.authLockoutFailures,
            1...1000
        )
        limits.authLockoutMilliseconds = try Self.int64(
            reader,
            "limits.authLockoutMs",
            limits.authLockoutMilliseconds,
            0...86_400_000
        )
        limits.authTimeoutMilliseconds = try Self.int64(
            reader,
            "limits.authTimeoutMs",
            limits.authTimeoutMilliseconds,
            0...3_600_000
        )
        limits.idleTimeoutMilliseconds = try Self.int64(
            reader,
            "limits.idleTimeoutMs",
            limits.idleTimeoutMilliseconds,
            0...86_400_000
        )
        server.limits = limits
        server.audit = try Self.audit(reader, server.audit)
        server.receipts = try Self.receipts(reader, server.receipts)
        server.retention = try Self.retention(reader, server.retention)
        server.metrics = try Self.metrics(reader, server.metrics)
        try Self.readTLS(reader, into: &server)

        let levelText = reader.string(forKey: "log.level", default: "info")
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw Invalid(
                key: "log.level",
                message: "'\(levelText)' is not one of trace, debug, info, notice, warning, error, critical"
            )
        }
        return DaemonConfiguration(server: server, logLevel: level)
    }

    /// The most specific text an error has (Foundation's JSON errors hide theirs in `userInfo`).
    private static func describe(_ error: any Error) -> String {
        let bridged = error as NSError
        if let detail = bridged.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        return "\(error)"
    }

    /// Parses `HOST:PORT` (IPv6 as `[::1]:7420`); `key` names the setting in errors.
    static func parseListen(_ text: String, key: String = "listen") throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw Invalid(key: key, message: "'\(text)' is not HOST:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw Invalid(key: key, message: "'\(text)' has no host") }
        return (host, port)
    }

    /// Reads the `metrics.*` keys: the HTTP endpoint and the node heartbeat (docs/OPERATIONS.md, "Metrics").
    private static func metrics(_ reader: ConfigReader, _ defaults: MetricsSettings) throws -> MetricsSettings {
        var metrics = defaults
        let listen = reader.string(forKey: "metrics.listen", default: "")
        metrics.listen = listen.isEmpty ? nil : try Self.parseListen(listen, key: "metrics.listen")
        metrics.heartbeatMilliseconds = try Self.int64(
            reader,
            "metrics.heartbeatMs",
            metrics.heartbeatMilliseconds,
            100...600_000
        )
        metrics.lagIntervalMilliseconds = try Self.int64(
            reader,
            "metrics.lagIntervalMs",
            metrics.lagIntervalMilliseconds,
            100...3_600_000
        )
        metrics.lagConsumers = try Self.int(reader, "metrics.lagConsumers", metrics.lagConsumers, 0...1000)
        return metrics
    }

    /// Reads the `retention.*` keys: the purge service (docs/AUDIT.md, "Retention").
    private static func retention(_ reader: ConfigReader, _ defaults: RetentionSettings) throws -> RetentionSettings {
        var retention = defaults
        retention.enabled = try Self.bool(reader, "retention.enabled", retention.enabled)
        retention.intervalSeconds = try Self.int64(
            reader,
            "retention.intervalSeconds",
            retention.intervalSeconds,
            1...604_800
        )
        retention.batchSize = try Self.int(reader, "retention.batchSize", retention.batchSize, 1...100_000)
        return retention
    }

    /// Reads the `receipts.*` keys: who received and acknowledged what (docs/AUDIT.md, "Receipts").
    private static func receipts(_ reader: ConfigReader, _ defaults: ReceiptSettings) throws -> ReceiptSettings {
        var receipts = defaults
        receipts.enabled = try Self.bool(reader, "receipts.enabled", receipts.enabled)
        receipts.flushMilliseconds = try Self.int64(reader, "receipts.flushMs", receipts.flushMilliseconds, 10...60_000)
        receipts.maxQueuedRanges = try Self.int(
            reader,
            "receipts.maxQueuedRanges",
            receipts.maxQueuedRanges,
            1_000...10_000_000
        )
        return receipts
    }

    /// Reads the `audit.*` keys: the log sealer and its checkpoints (docs/AUDIT.md).
    private static func audit(_ reader: ConfigReader, _ defaults: AuditSettings) throws -> AuditSettings {
        var audit = defaults
        audit.enabled = try Self.bool(reader, "audit.enabled", audit.enabled)
        audit.checkpointMessages = try Self.int64(
            reader,
            "audit.checkpointMessages",
            audit.checkpointMessages,
            1...10_000_000
        )
        audit.checkpointSeconds = try Self.int64(reader, "audit.checkpointSeconds", audit.checkpointSeconds, 1...86_400)
        audit.sealIntervalMilliseconds = try Self.int64(
            reader,
            "audit.sealIntervalMs",
            audit.sealIntervalMilliseconds,
            10...60_000
        )
        if let file = reader.string(forKey: "audit.signingKeyFile"), !file.isEmpty {
            audit.signingKeyFile = file
        }
        return audit
    }

    /// Reads `plaintext.enabled` and the `tls.*` keys; TLS is on when `tls.certificate` is set.
    ///
    /// The files are read here, so that a missing or unreadable certificate, key or CA stops the
    /// daemon at start with the key and the file named.
    private static func readTLS(_ reader: ConfigReader, into server: inout ServerConfiguration) throws {
        server.plaintextEnabled = try Self.bool(reader, "plaintext.enabled", true)
        let certificate = reader.string(forKey: "tls.certificate").flatMap { $0.isEmpty ? nil : $0 }
        let privateKey = reader.string(forKey: "tls.privateKey").flatMap { $0.isEmpty ? nil : $0 }
        let clientCA = reader.string(forKey: "tls.clientCA").flatMap { $0.isEmpty ? nil : $0 }
        let requireClientCertificate = try Self.bool(reader, "tls.requireClientCertificate", false)
        guard let certificate else {
            if privateKey != nil || clientCA != nil || requireClientCertificate {
                throw Invalid(key: "tls.certificate", message: "the other tls.* settings need a certificate file")
            }
            if !server.plaintextEnabled {
                throw Invalid(
                    key: "plaintext.enabled",
                    message: "false leaves no listener: set tls.certificate and tls.privateKey"
                )
            }
            return
        }
        guard let privateKey else {
            throw Invalid(key: "tls.privateKey", message: "tls.certificate needs its private key file")
        }
        let (host, port) = try Self.parseListen(
            reader.string(forKey: "tls.listen", default: "127.0.0.1:7443"),
            key: "tls.listen"
        )
        let tls = TLSSettings(
            certificatePath: certificate,
            privateKeyPath: privateKey,
            clientCAPath: clientCA,
            requireClientCertificate: requireClientCertificate,
            host: host,
            port: port
        )
        do {
            try tls.validate()
        } catch let error as TLSSettingsError {
            let key: String
            switch error.setting {
            case .certificate: key = "tls.certificate"
            case .privateKey: key = "tls.privateKey"
            case .clientCA: key = "tls.clientCA"
            }
            throw Invalid(key: key, message: error.message)
        }
        server.tls = tls
    }

    /// Reads a boolean that may come as a JSON `true`/`false` or a string (flags, environment).
    private static func bool(_ reader: ConfigReader, _ key: String, _ fallback: Bool) throws -> Bool {
        if let text = reader.string(forKey: ConfigKey(key)) {
            switch text.lowercased() {
            case "true", "1", "yes", "on": return true
            case "false", "0", "no", "off": return false
            default: throw Invalid(key: key, message: "'\(text)' is not true or false")
            }
        }
        return reader.bool(forKey: ConfigKey(key), default: fallback)
    }

    /// Reads an integer that may come as a number (JSON) or a string (flags, environment).
    /// ``int(_:_:_:_:)`` for a setting kept as `Int64` (milliseconds).
    private static func int64(
        _ reader: ConfigReader,
        _ key: String,
        _ fallback: Int64,
        _ range: ClosedRange<Int>
    ) throws -> Int64 {
        Int64(try Self.int(reader, key, Int(fallback), range))
    }

    private static func int(
        _ reader: ConfigReader,
        _ key: String,
        _ fallback: Int,
        _ range: ClosedRange<Int>
    ) throws -> Int {
        let value: Int
        if let text = reader.string(forKey: ConfigKey(key)) {
            guard let parsed = Int(text) else { throw Invalid(key: key, message: "'\(text)' is not a whole number") }
            value = parsed
        } else {
            value = reader.int(forKey: ConfigKey(key), default: fallback)
        }
        guard range.contains(value) else {
            throw Invalid(key: key, message: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }
}
