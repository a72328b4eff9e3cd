/// Facts about the database schema this build of Liaison expects.
public enum Schema {
    /// The highest migration version this build needs (the number of the newest `migrations/NNNN_*.sql`).
    ///
    /// The daemon refuses to start on a database whose applied version is lower; a test keeps this
    /// constant equal to the newest file in `migrations/`.
    public static let requiredVersion = 15

    /// The advisory lock key that serialises seq assignment and commit (see `liaison_append`).
    public static let appendLockKey: Int64 = 7_420_001
}

extension Schema {
    /// The session advisory lock the log sealer holds: one sealer per database (docs/AUDIT.md).
    public static let sealLockKey: Int64 = 7_420_002
}
