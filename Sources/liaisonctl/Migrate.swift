import ArgumentParser
import Foundation
import LiaisonStore

/// `liaisonctl migrate`: brings the database schema up to the version this build needs.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending schema migrations, or show the schema version with --status.",
        discussion: "Re-running is a no-op. Each migration runs in its own transaction."
    )

    @OptionGroup var database: DatabaseOptions

    @Option(
        name: .customLong("migrations-dir"),
        help: ArgumentHelp(
            "Folder of NNNN_name.sql files (default: $LIAISON_MIGRATIONS_DIR, ./migrations, or the build's checkout).",
            valueName: "dir"
        )
    )
    var migrationsDirectory: String?

    @Flag(help: "Print the current and the required schema version; change nothing.")
    var status = false

    func run() async throws {
        if self.status {
            let current = try await self.database.run { connection in
                try Migrator().currentVersion(on: connection)
            }
            print("current version \(current)")
            print("required version \(Schema.requiredVersion)")
            if current < Schema.requiredVersion {
                print("run `liaisonctl migrate` to apply \(Schema.requiredVersion - current) pending migration(s)")
            }
            return
        }
        let directory: URL
        if let migrationsDirectory {
            directory = URL(fileURLWithPath: migrationsDirectory)
        } else if let found = Migration.defaultDirectory() {
            directory = found
        } else {
            throw ValidationError("no migrations folder found: pass --migrations-dir")
        }
        let migrations = try Migration.load(from: directory)
        let report = try await self.database.run { connection in
            try Migrator().migrate(migrations, on: connection)
        }
        let names = Dictionary(migrations.map { ($0.version, $0.name) }, uniquingKeysWith: { first, _ in first })
        for version in report.applied {
            print("applied \(names[version] ?? String(version))")
        }
        print("schema at version \(report.currentVersion)")
    }
}
