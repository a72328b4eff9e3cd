import Foundation
import Testing

@Suite(.emptyCLIDatabase, .serialized)
struct MigrateTests {
    private var migrationsDirectory: String {
        CLI.packageRoot.appendingPathComponent("migrations").path
    }

    /// The migration files' names without `.sql`, in version order: what `migrate` must apply.
    private var migrationNames: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: self.migrationsDirectory)) ?? []
        return files.filter { $0.hasSuffix(".sql") }.sorted().map { String($0.dropLast(4)) }
    }

    @Test func migrateAppliesOnceThenIsANoOp() async throws {
        let names = self.migrationNames
        #expect(names.count >= 2)
        let before = try await CLIDatabase.run(["migrate", "--status"])
        #expect(before.status == 0, "\(before)")
        #expect(
            before.lines == [
                "current version 0", "required version \(names.count)",
                "run `liaisonctl migrate` to apply \(names.count) pending migration(s)",
            ]
        )

        let first = try await CLIDatabase.run(["migrate", "--migrations-dir", self.migrationsDirectory])
        #expect(first.status == 0, "\(first)")
        #expect(first.lines == names.map { "applied \($0)" } + ["schema at version \(names.count)"])

        let second = try await CLIDatabase.run(["migrate"])
        #expect(second.status == 0, "\(second)")
        #expect(second.lines == ["schema at version \(names.count)"])

        let after = try await CLIDatabase.run(["migrate", "--status"])
        #expect(after.lines == ["current version \(names.count)", "required version \(names.count)"])
    }

    @Test func missingMigrationsFolderIsAClearError() async throws {
        let result = try await CLIDatabase.run(["migrate", "--migrations-dir", "/nonexistent/migrations"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("liaisonctl: error: cannot read migrations folder /nonexistent/migrations"))
    }
}
