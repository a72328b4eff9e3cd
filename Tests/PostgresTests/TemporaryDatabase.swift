import Foundation
import Postgres
import Testing

/// A suite trait that creates a database `pgtests_<random>` on the server named by
/// `LIAISON_TEST_DATABASE_URL` before the suite runs and drops it afterwards.
///
/// Tests read the new database's URL from ``url``. Without the environment variable the suite fails
/// with a message saying how to start a server; it never passes silently.
struct TemporaryDatabase: SuiteTrait, TestScoping {
    /// The URL of the suite's database, set while the suite runs.
    @TaskLocal static var url: String?

    /// The environment variable naming the server.
    static let environmentKey = "LIAISON_TEST_DATABASE_URL"

    var isRecursive: Bool { false }

    func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        let admin = try Self.serverURL()
        let name = "pgtests_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        // CREATE and DROP DATABASE may take longer than the default statement timeout on a loaded machine.
        let connection = try Connection(admin, options: ConnectionOptions(statementTimeoutMilliseconds: 60_000))
        try connection.query("CREATE DATABASE " + connection.quoteIdentifier(String(name)))
        defer {
            _ = try? connection.query(
                "DROP DATABASE IF EXISTS " + connection.quoteIdentifier(String(name)) + " WITH (FORCE)"
            )
            connection.close()
        }
        var components = try #require(URLComponents(string: admin), "\(Self.environmentKey) is not a URL: \(admin)")
        components.path = "/" + name
        let url = try #require(components.string)
        try await Self.$url.withValue(url) {
            try await function()
        }
    }

    /// The server URL from the environment.
    ///
    /// - Throws: A clear error when the variable is unset.
    static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment[environmentKey], !url.isEmpty else {
            throw MissingDatabase()
        }
        return url
    }

    /// The current suite's database URL.
    static func currentURL() throws -> String {
        try #require(url, "test is not inside a suite with .temporaryDatabase")
    }

    /// A new connection to the current suite's database.
    static func connect() throws -> Connection {
        try Connection(currentURL())
    }
}

/// The error when `LIAISON_TEST_DATABASE_URL` is unset.
struct MissingDatabase: Error, CustomStringConvertible {
    var description: String {
        "LIAISON_TEST_DATABASE_URL is not set: start a server with "
            + "`export LIAISON_TEST_DATABASE_URL=$(scripts/pg-cluster.sh start /tmp/pg-tests 56101)`"
    }
}

extension Trait where Self == TemporaryDatabase {
    /// Runs the suite against a fresh database that is dropped afterwards.
    static var temporaryDatabase: Self { TemporaryDatabase() }
}
