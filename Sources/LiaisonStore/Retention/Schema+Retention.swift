extension Schema {
    /// The transaction-level advisory lock that orders legal holds against purge batches: a hold
    /// placed or released commits either before a batch (which then sees it) or after it.
    public static let retentionLockKey: Int64 = 7_420_003

    /// The session advisory lock of a purge pass: one purger per database at a time (a daemon's
    /// retention service or `liaisonctl retention run`).
    public static let purgeLockKey: Int64 = 7_420_004
}
