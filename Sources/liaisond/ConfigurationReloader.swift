import LiaisonServer
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the configuration on `SIGHUP` (docs/CONFIGURATION.md, "Reload"): reads the file,
/// the environment and the flags again with the precedence they had at start, applies what can
/// change live without dropping a connection, and logs each changed key that needs a restart.
///
/// A file that cannot be read or holds an invalid value is refused with its error, logged at
/// `error` with `code=64` (the exit code the same error has at start); the running settings stay.
struct ConfigurationReloader: Service {
    /// The `SIGHUP`s, trapped before the server starts so that none kills the daemon.
    let signals: UnixSignalsSequence
    /// Reads the configuration as at start (`DaemonConfiguration.load` with the same file and flags).
    let load: @Sendable () async throws -> DaemonConfiguration
    /// The configuration the daemon started with.
    let initial: DaemonConfiguration
    let server: LiaisonServer
    let logLevel: LogLevelControl
    let logger: Logger

    func run() async {
        var running = self.initial
        for await _ in self.signals.cancelOnGracefulShutdown() {
            running = await self.reload(running)
        }
    }

    /// One reload.
    ///
    /// - Returns: The configuration that runs afterwards (`running` when the reload was refused).
    private func reload(_ running: DaemonConfiguration) async -> DaemonConfiguration {
        self.logger.info("SIGHUP: reloading the configuration")
        let file: DaemonConfiguration
        do {
            file = try await self.load()
        } catch {
            self.refuse("\(error)")
            return running
        }
        let reload = ConfigurationReload(
            running: running.server,
            runningLogLevel: running.logLevel,
            file: file.server,
            fileLogLevel: file.logLevel
        )
        do {
            try self.server.apply(reload)
        } catch let error as TLSSettingsError {
            self.refuse("configuration error (tls.certificate|tls.privateKey|tls.clientCA): \(error.message)")
            return running
        } catch {
            self.refuse("\(error)")
            return running
        }
        self.logLevel.level = reload.logLevel
        for key in reload.restartNeeded {
            self.logger.warning("configuration reload: \(key) changed: restart needed, the running value stays")
        }
        let applied =
            reload.applied.isEmpty ? "nothing changed that applies live" : reload.applied.joined(separator: ", ")
        self.logger.notice("configuration reloaded: \(applied)")
        return DaemonConfiguration(server: reload.configuration, logLevel: reload.logLevel)
    }

    private func refuse(_ reason: String) {
        self.logger.error(
            "configuration reload refused, the running settings stay: \(reason)",
            metadata: ["code": "64"]
        )
    }
}
