import ArgumentParser
import Foundation
import Postgres

/// The PostgreSQL connection shared by every database command.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "PostgreSQL URL, e.g. postgresql://liaison@127.0.0.1:5432/liaison (default: $LIAISON_DATABASE_URL).",
            valueName: "url"
        )
    )
    var databaseURL: String?

    /// The URL from the option, else from the environment.
    var resolvedURL: String? {
        if let databaseURL, !databaseURL.isEmpty {
            return databaseURL
        }
        if let url = ProcessInfo.processInfo.environment["LIAISON_DATABASE_URL"], !url.isEmpty {
            return url
        }
        return nil
    }

    func validate() throws {
        guard self.resolvedURL != nil else {
            throw ValidationError("no database URL: pass --database-url or set LIAISON_DATABASE_URL")
        }
    }

    /// A worker thread with its own connection, so that libpq never blocks the cooperative pool.
    /// The caller shuts it down.
    func makeWorker(name: String = "liaisonctl-db") throws -> PostgresWorker {
        guard let url = self.resolvedURL else {
            throw ValidationError("no database URL: pass --database-url or set LIAISON_DATABASE_URL")
        }
        return PostgresWorker(name: name) { try Connection(url) }
    }

    /// Runs `body` on a fresh worker's connection, then shuts the worker down.
    ///
    /// - Throws: `body`'s error; when the database cannot be reached, a ``CLIFailure`` naming it
    ///   (without its password) and what to try.
    func run<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        let worker = try self.makeWorker()
        defer { worker.shutdown() }
        do {
            return try await worker.run(body)
        } catch {
            guard let url = self.resolvedURL, let message = DatabaseErrorText.describe(error, url: url) else {
                throw error
            }
            throw CLIFailure(message)
        }
    }
}
