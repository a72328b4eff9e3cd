import Configuration
import Foundation
import LiaisonServer
import Logging
import SystemPackage

/// Reads the daemon's settings from, in order of precedence: command-line flags, `LIAISON_*`
/// environment variables, the JSON configuration file, built-in defaults (docs/CONFIGURATION.md).
struct DaemonConfiguration {
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
        let fileProvider: FileProvider<JSONSnapshot>
        do {
            fileProvider = try await FileProvider<JSONSnapshot>(filePath: FilePath(file), allowMissing: fileIsOptional)
        } catch {
            throw Invalid(key: "file", message: "\(file) could not be read as JSON: \(Self.describe(error))")
        }
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
        server.dedupeWindowSeconds = Int64(
            try Self.int(reader, "dedupe.windowSeconds", Int(server.dedupeWindowSeconds), 0...Int(Int32.max))
        )
        server.eventLoopThreads = try Self.int(reader, "server.threads", server.eventLoopThreads, 1...256)
        var limits = server.limits
        limits.maxLineLength = try Self.int(reader, "limits.maxLineLength", limits.maxLineLength, 256...1 << 20)
        limits.maxPayload = try Self.int(reader, "limits.maxPayload", limits.maxPayload, 0...64 << 20)
        limits.maxSubscriptions = try Self.int(reader, "limits.maxSubscriptions", limits.maxSubscriptions, 1...100_000)
        limits.highWaterMark = try Self.int(reader, "limits.highWaterMark", limits.highWaterMark, 4096...1 << 30)
        limits.replayPageSize = try Self.int(reader, "limits.replayPageSize", limits.replayPageSize, 1...100_000)
        limits.pingIntervalMilliseconds = Int64(
            try Self.int(reader, "limits.pingIntervalMs", Int(limits.pingIntervalMilliseconds), 100...3_600_000)
        )
        limits.maxPingsOutstanding = try Self.int(
            reader,
            "limits.maxPingsOutstanding",
            limits.maxPingsOutstanding,
            1...100
        )
        limits.stallTimeoutMilliseconds = Int64(
            try Self.int(reader, "limits.stallTimeoutMs", Int(limits.stallTimeoutMilliseconds), 100...86_400_000)
        )
        limits.ackWaitMilliseconds = Int64(
            try Self.int(reader, "consumers.ackWaitMs", Int(limits.ackWaitMilliseconds), 1...86_400_000)
        )
        limits.maxDeliver = try Self.int(reader, "consumers.maxDeliver", limits.maxDeliver, 1...1000)
        limits.maxInflight = try Self.int(reader, "consumers.maxInflight", limits.maxInflight, 1...100_000)
        server.limits = limits

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

    /// Parses `HOST:PORT` (IPv6 as `[::1]:7420`).
    static func parseListen(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw Invalid(key: "listen", message: "'\(text)' is not HOST:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw Invalid(key: "listen", message: "'\(text)' has no host") }
        return (host, port)
    }

    /// Reads an integer that may come as a number (JSON) or a string (flags, environment).
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
