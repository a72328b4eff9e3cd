public import Foundation
import LiaisonStore
public import Postgres

/// A fresh, migrated PostgreSQL database for one test suite, on the server named by
/// `LIAISON_TEST_DATABASE_URL` (set by `scripts/test.sh`; see postgres-nio's
/// Tests/IntegrationTests/Utilities.swift for the pattern).
public struct TestDatabase: Sendable {
    /// Connection URI of the new database.
    public let url: String
    /// Its name, `liaison_test_<random>`.
    public let name: String
    private let serverURL: String

    /// The error thrown when the environment names no server.
    public struct Unconfigured: Error, CustomStringConvertible {
        public var description: String {
            "LIAISON_TEST_DATABASE_URL is not set: run the tests with scripts/test.sh, which starts PostgreSQL"
        }
    }

    /// Creates an empty database and, unless `migrate` is false, applies `migrations/`.
    ///
    /// - Throws: ``Unconfigured`` without a server; any database error.
    public static func create(migrate: Bool = true) throws -> TestDatabase {
        guard let server = ProcessInfo.processInfo.environment["LIAISON_TEST_DATABASE_URL"], !server.isEmpty else {
            throw Unconfigured()
        }
        let name = "liaison_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let admin = try Connection(server)
        try admin.execute(script: "CREATE DATABASE \(name)")
        let url = Self.replacingDatabase(in: server, with: name)
        if migrate {
            let connection = try Connection(url)
            _ = try Migrator().migrate(try Migration.load(from: Self.migrationsDirectory), on: connection)
        }
        return TestDatabase(url: url, name: name, serverURL: server)
    }

    /// Opens a new connection to the database.
    public func connect() throws -> Connection { try Connection(self.url) }

    /// Drops the database (terminating its connections).
    public func drop() {
        guard let admin = try? Connection(self.serverURL) else { return }
        _ = try? admin.execute(script: "DROP DATABASE IF EXISTS \(self.name) WITH (FORCE)")
    }

    /// The repository's `migrations/` folder.
    public static var migrationsDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("migrations")
    }

    /// The repository root.
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    private static func replacingDatabase(in url: String, with name: String) -> String {
        // postgresql://user@host:port/dbname?params → swap dbname.
        guard var components = URLComponents(string: url) else { return url + " dbname=\(name)" }
        components.path = "/" + name
        return components.string ?? url
    }
}
