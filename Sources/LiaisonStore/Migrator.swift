public import Postgres

/// Applies numbered migrations, each in its own transaction, and records them with a checksum.
///
/// Re-running is a no-op; an applied file whose checksum changed is an error, as is a database
/// that has versions this build does not know.
public struct Migrator: Sendable {
    /// The outcome of ``migrate(_:on:)``.
    public struct Report: Sendable, Equatable {
        /// Versions applied by this run, ascending.
        public var applied: [Int]
        /// The schema version after the run.
        public var currentVersion: Int
    }

    /// Creates a migrator.
    public init() {}

    private static let createTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version     integer PRIMARY KEY,
            name        text NOT NULL,
            checksum    text NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now()
        )
        """

    /// Applies every migration newer than the database's version.
    ///
    /// - Parameters:
    ///   - migrations: All migrations, as from ``Migration/load(from:)``.
    ///   - connection: A connection with rights to create tables.
    /// - Returns: What was applied.
    /// - Throws: ``StoreError`` `.migrationMismatch` when an applied file changed; `.database` or
    ///   `.unavailable` when a statement fails (that migration is rolled back, earlier ones stay).
    public func migrate(_ migrations: [Migration], on connection: Connection) throws(StoreError) -> Report {
        _ = try storeCall { try connection.query(Self.createTable) }
        let applied = try self.appliedChecksums(on: connection)
        for migration in migrations {
            if let checksum = applied[migration.version], checksum != migration.checksum {
                throw StoreError(
                    .migrationMismatch,
                    "migration \(migration.name) was changed after it was applied (checksum \(checksum) in the database)"
                )
            }
        }
        var done: [Int] = []
        for migration in migrations where applied[migration.version] == nil {
            try storeCall {
                try connection.transaction { connection in
                    // Serialise concurrent `migrate` runs: the loser waits, then finds the version applied.
                    try connection.query("SELECT pg_advisory_xact_lock(7420000)")
                    let again = try connection.query(
                        "SELECT 1 FROM schema_migrations WHERE version = $1",
                        [Int64(migration.version).postgresBind]
                    )
                    guard again.rowCount == 0 else { return }
                    try connection.execute(script: migration.sql)
                    try connection.query(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        [
                            Int64(migration.version).postgresBind, migration.name.postgresBind,
                            migration.checksum.postgresBind,
                        ]
                    )
                }
            }
            done.append(migration.version)
        }
        return Report(applied: done, currentVersion: try self.currentVersion(on: connection))
    }

    /// The highest applied version, or 0 for an empty database.
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func currentVersion(on connection: Connection) throws(StoreError) -> Int {
        try storeCall {
            let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
            guard try exists.decode(Bool.self, row: 0, column: 0) else { return 0 }
            let result = try connection.query("SELECT coalesce(max(version), 0) FROM schema_migrations")
            return try result.decode(Int.self, row: 0, column: 0)
        }
    }

    /// Checks that the database schema is exactly what this build needs.
    ///
    /// - Throws: ``StoreError`` `.schemaTooOld` with a message that says to run `liaisonctl migrate`;
    ///   `.migrationMismatch` when the database is newer than this build.
    public func requireCurrent(on connection: Connection, required: Int = Schema.requiredVersion) throws(StoreError) {
        let version = try self.currentVersion(on: connection)
        if version < required {
            throw StoreError(
                .schemaTooOld,
                "database schema is at version \(version), this build needs \(required): run `liaisonctl migrate`"
            )
        }
    }

    private func appliedChecksums(on connection: Connection) throws(StoreError) -> [Int: String] {
        try storeCall {
            let result = try connection.query("SELECT version, checksum FROM schema_migrations")
            var map: [Int: String] = [:]
            for row in 0..<result.rowCount {
                map[try result.decode(Int.self, row: row, column: 0)] = try result.decode(
                    String.self,
                    row: row,
                    column: 1
                )
            }
            return map
        }
    }
}
