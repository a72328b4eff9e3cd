import Foundation
import LiaisonStore
import Postgres
import Testing

/// A suite trait: creates a fresh database on the server named by `LIAISON_TEST_DATABASE_URL`
/// before the suite runs, optionally migrated, and drops it afterwards.
///
/// Without the variable the suite fails with a message saying how to start a server; it never
/// passes silently.
struct CLIDatabase: SuiteTrait, TestScoping {
    /// The URL of the current suite's database.
    @TaskLocal static var url: String?

    /// Whether to apply the migrations before the suite runs.
    var migrated: Bool

    var isRecursive: Bool { false }

    func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        guard let server = ProcessInfo.processInfo.environment["LIAISON_TEST_DATABASE_URL"], !server.isEmpty else {
            let hint = "`export LIAISON_TEST_DATABASE_URL=$(scripts/pg-cluster.sh start /tmp/pg-tests 56101)`"
            Issue.record("LIAISON_TEST_DATABASE_URL is not set: start a server with \(hint)")
            return
        }
        let name =
            "clitests_" + String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))
        let admin = try Connection(server)
        try admin.query("CREATE DATABASE " + admin.quoteIdentifier(name))
        defer {
            _ = try? admin.query("DROP DATABASE IF EXISTS " + admin.quoteIdentifier(name) + " WITH (FORCE)")
            admin.close()
        }
        var components = try #require(
            URLComponents(string: server),
            "LIAISON_TEST_DATABASE_URL is not a URL: \(server)"
        )
        components.path = "/" + name
        let url = try #require(components.string)
        if self.migrated {
            let connection = try Connection(url)
            defer { connection.close() }
            let migrations = try Migration.load(from: CLI.packageRoot.appendingPathComponent("migrations"))
            _ = try Migrator().migrate(migrations, on: connection)
        }
        try await Self.$url.withValue(url) {
            try await function()
        }
    }

    /// The current suite's database URL.
    static func currentURL() throws -> String {
        try #require(url, "test is not inside a suite with .cliDatabase")
    }

    /// A new connection to the current suite's database; the caller closes it.
    static func connect() throws -> Connection {
        try Connection(currentURL())
    }

    /// Runs `liaisonctl` against the suite's database (`LIAISON_DATABASE_URL` set).
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> CLIResult {
        var environment = environment
        environment["LIAISON_DATABASE_URL"] = try currentURL()
        return try await CLI.run(arguments, environment: environment)
    }
}

extension Trait where Self == CLIDatabase {
    /// Runs the suite against a fresh, migrated database that is dropped afterwards.
    static var cliDatabase: Self { CLIDatabase(migrated: true) }

    /// Runs the suite against a fresh, empty database that is dropped afterwards.
    static var emptyCLIDatabase: Self { CLIDatabase(migrated: false) }
}
