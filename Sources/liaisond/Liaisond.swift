import ArgumentParser
import Foundation
import LiaisonServer
import LiaisonStore
import Logging
import Postgres
import ServiceLifecycle
import UnixSignals

/// `liaisond`: the Liaison message daemon. Parses flags, loads configuration, checks the schema,
/// and runs the server until SIGTERM or SIGINT; SIGHUP reloads the configuration.
@main
struct Liaisond: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liaisond",
        abstract: "The Liaison message daemon: durable topic messaging over PostgreSQL.",
        discussion: """
            Settings come from flags, then LIAISON_* environment variables, then the JSON file, then \
            defaults. See docs/CONFIGURATION.md. The database must be migrated (`liaisonctl migrate`).
            """,
        version: "0.1.0"
    )

    @Option(name: .long, help: "JSON configuration file (default: config/liaisond.json when it exists).")
    var config: String?

    @Option(name: .long, help: "Address to listen on, HOST:PORT (default 127.0.0.1:7420).")
    var listen: String?

    @Option(name: .long, help: "PostgreSQL URI or conninfo (default: $LIAISON_DATABASE_URL).")
    var databaseURL: String?

    @Option(name: .long, help: "This daemon's name in the greeting.")
    var nodeName: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    mutating func run() async throws {
        var overrides: [String: String] = [:]
        if let listen { overrides["listen"] = listen }
        if let databaseURL { overrides["database.url"] = databaseURL }
        if let nodeName { overrides["node.name"] = nodeName }
        if let logLevel { overrides["log.level"] = logLevel }
        let file = self.config ?? "config/liaisond.json"

        let fileIsOptional = self.config == nil
        let load: @Sendable () async throws -> DaemonConfiguration = { [overrides] in
            try await DaemonConfiguration.load(file: file, fileIsOptional: fileIsOptional, overrides: overrides)
        }
        let settings: DaemonConfiguration
        do {
            settings = try await load()
        } catch {
            throw ValidationError("\(error)")
        }
        let level = LogLevelControl(settings.logLevel)
        LoggingSystem.bootstrap { label in ReloadableLevelLogHandler(label: label, control: level) }
        let logger = Logger(label: "liaisond")
        // Trapped before anything runs: SIGHUP's default action would end the daemon undrained.
        let hangups = await UnixSignalsSequence(trapping: .sighup)

        try await Self.checkSchema(settings.server.databaseURL, logger: logger)

        let server = LiaisonServer(configuration: settings.server, logger: logger)
        let reloader = ConfigurationReloader(
            signals: hangups,
            load: load,
            initial: settings,
            server: server,
            logLevel: level,
            logger: logger
        )
        var configuration = ServiceGroupConfiguration(
            services: [
                .init(service: server),
                // Ends first at shutdown; its end must not cancel the server's drain.
                .init(service: reloader, successTerminationBehavior: .ignore),
            ],
            logger: logger
        )
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        let group = ServiceGroup(configuration: configuration)
        do {
            try await group.run()
        } catch {
            guard let message = StartupErrorText.listen(error, configuration: settings.server) else { throw error }
            logger.critical("cannot start: \(message)")
            throw ExitCode(71)  // EX_OSERR
        }
    }

    /// Refuses to start on a database whose schema is older than this build needs.
    private static func checkSchema(_ databaseURL: String, logger: Logger) async throws {
        let worker = PostgresWorker(name: "liaison-startup") { try Connection(databaseURL) }
        defer { worker.shutdown() }
        do {
            try await worker.run { connection in try Migrator().requireCurrent(on: connection) }
        } catch let error as StoreError where error.code != .unavailable {
            logger.critical("cannot start: \(error.message)")
            throw ExitCode(78)  // EX_CONFIG
        } catch {
            logger.critical("cannot start: \(StartupErrorText.database(error, url: databaseURL))")
            throw ExitCode(69)  // EX_UNAVAILABLE
        }
    }
}
