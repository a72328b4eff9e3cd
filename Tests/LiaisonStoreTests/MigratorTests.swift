import Foundation
import LiaisonStore
import Postgres
import TestSupport
import Testing

@Suite struct MigratorTests {
    @Test func appliesOnceAndRerunIsANoOp() throws {
        let db = try TestDatabase.create(migrate: false)
        defer { db.drop() }
        let connection = try db.connect()
        let migrations = try Migration.load(from: TestDatabase.migrationsDirectory)
        #expect(try Migrator().currentVersion(on: connection) == 0)
        let first = try Migrator().migrate(migrations, on: connection)
        #expect(first.applied == migrations.map(\.version))
        #expect(first.currentVersion == Schema.requiredVersion)
        let second = try Migrator().migrate(migrations, on: connection)
        #expect(second.applied.isEmpty)
        #expect(second.currentVersion == Schema.requiredVersion)
        try Migrator().requireCurrent(on: connection)
    }

    @Test func requiredVersionIsTheNewestMigrationFile() throws {
        let migrations = try Migration.load(from: TestDatabase.migrationsDirectory)
        #expect(migrations.last?.version == Schema.requiredVersion)
        #expect(migrations.map(\.version) == Array(1...migrations.count))
    }

    @Test func refusesAnOldSchemaWithAMessageThatSaysToMigrate() throws {
        let db = try TestDatabase.create(migrate: false)
        defer { db.drop() }
        let connection = try db.connect()
        let error = #expect(throws: StoreError.self) { try Migrator().requireCurrent(on: connection) }
        #expect(error?.code == .schemaTooOld)
        #expect(error?.message.contains("liaisonctl migrate") == true)
    }

    @Test func refusesAChangedAppliedMigration() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let connection = try db.connect()
        var migrations = try Migration.load(from: TestDatabase.migrationsDirectory)
        migrations[0] = try Migration(
            fileName: migrations[0].name + ".sql",
            contents: Data((migrations[0].sql + "\n-- edited\n").utf8)
        )
        let error = #expect(throws: StoreError.self) { try Migrator().migrate(migrations, on: connection) }
        #expect(error?.code == .migrationMismatch)
    }

    @Test func aFailingMigrationIsRolledBackWhole() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let connection = try db.connect()
        var migrations = try Migration.load(from: TestDatabase.migrationsDirectory)
        let bad = try Migration(
            fileName: String(format: "%04d_bad.sql", Schema.requiredVersion + 1),
            contents: Data("CREATE TABLE half_done (x int); SELECT no_such_function();".utf8)
        )
        migrations.append(bad)
        #expect(throws: StoreError.self) { try Migrator().migrate(migrations, on: connection) }
        #expect(try Migrator().currentVersion(on: connection) == Schema.requiredVersion)
        let table = try connection.query("SELECT to_regclass('half_done') IS NULL")
        #expect(try table.decode(Bool.self, row: 0, column: 0))
    }

    @Test(arguments: ["1_x.txt", "abc_x.sql", "0000_zero.sql", "nounderscore.sql"])
    func rejectsMalformedFileNames(_ name: String) {
        #expect(throws: StoreError.self) { try Migration(fileName: name, contents: Data()) }
    }
}
