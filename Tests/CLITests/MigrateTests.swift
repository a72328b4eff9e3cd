import Foundation
import Testing

@Suite(.emptyCLIDatabase, .serialized)
struct MigrateTests {
    private var migrationsDirectory: String {
        CLI.packageRoot.appendingPathComponent("migrations").path
    }

    @Test func migrateAppliesOnceThenIsANoOp() async throws {
        let before = try await CLIDatabase.run(["migrate", "--status"])
        #expect(before.status == 0, "\(before)")
        #expect(
            before.lines == [
                "current version 0", "required version 1", "run `liaisonctl migrate` to apply 1 pending migration(s)",
            ]
        )

        let first = try await CLIDatabase.run(["migrate", "--migrations-dir", self.migrationsDirectory])
        #expect(first.status == 0, "\(first)")
        #expect(first.lines == ["applied 0001_initial", "schema at version 1"])

        let second = try await CLIDatabase.run(["migrate"])
        #expect(second.status == 0, "\(second)")
        #expect(second.lines == ["schema at version 1"])

        let after = try await CLIDatabase.run(["migrate", "--status"])
        #expect(after.lines == ["current version 1", "required version 1"])
    }

    @Test func missingMigrationsFolderIsAClearError() async throws {
        let result = try await CLIDatabase.run(["migrate", "--migrations-dir", "/nonexistent/migrations"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("liaisonctl: error: cannot read migrations folder /nonexistent/migrations"))
    }
}
