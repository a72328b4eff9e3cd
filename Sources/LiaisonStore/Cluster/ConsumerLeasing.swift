/// Durable consumer leases across every daemon on one database (docs/ARCHITECTURE.md,
/// "Durable consumers"): ``LiaisonStorage/openConsumer(_:)`` takes the lease and refuses with
/// `.conflict` while another session holds it; these free and watch it.
///
/// Separate from ``LiaisonStorage`` so that fakes of the publish path need not implement it.
/// Calls run on the consumer thread (after any progress queued before them) with the storage call
/// deadline, and throw only ``StoreError``.
public protocol ConsumerLeasing: Sendable {
    /// Frees a durable consumer's lease, if this daemon holds it: after the progress recorded
    /// before it, so whoever binds the consumer next reads that progress.
    ///
    /// - Throws: `.unavailable` when the database did not answer in time (the lease is freed
    ///   anyway when the consumer thread's connection is replaced).
    func releaseConsumer(account: String, name: String) async throws

    /// Checks the consumer thread's connection; after it was replaced, takes every held lease
    /// again.
    ///
    /// - Returns: Leases another daemon took while this one had no connection (their sessions
    ///   must end: two connections would otherwise share the consumer).
    /// - Throws: `.unavailable` when the database cannot be reached.
    func checkConsumerLeases() async throws -> [(account: String, name: String)]
}
