import Foundation
public import LiaisonCore

/// Everything the server needs from storage, as one asynchronous API.
///
/// The server talks to PostgreSQL only through this protocol (docs/ARCHITECTURE.md, "Layers"):
/// ``PostgresStorage`` is the real implementation; tests may put a fake behind it. Every call has
/// a deadline: a database that hangs makes the call throw ``StoreError`` `.unavailable` within
/// the configured time instead of waiting for ever. Every method throws only ``StoreError``.
public protocol LiaisonStorage: Sendable {
    /// Appends a batch in one transaction, recording `token` with it so that a batch whose
    /// commit was interrupted can be looked up later (``resolveBatch(token:)``).
    ///
    /// - Parameters:
    ///   - batch: The messages, in the order they should get seqs.
    ///   - token: Unique per batch (the writer's choice).
    ///   - dedupeWindowSeconds: How long an `id` counts, in seconds (0: as long as it is stored).
    ///   - deadline: Give up (throwing `.unavailable`, outcome unknown) at this time.
    /// - Returns: Per-row seqs and duplicate flags.
    /// - Throws: `.unavailable` when the database could not be reached or did not answer in time
    ///   (the batch may or may not have committed: resolve it), `.database` when it refused the
    ///   batch (rolled back).
    func append(
        _ batch: [NewMessage],
        token: Int64,
        dedupeWindowSeconds: Int64,
        deadline: ContinuousClock.Instant
    )
        async throws -> MessageLog.Appended

    /// Finds out whether the batch recorded under `token` committed.
    ///
    /// - Returns: Its result if it committed, `nil` if it did not.
    /// - Throws: `.unavailable` when that cannot be known now.
    func resolveBatch(token: Int64, deadline: ContinuousClock.Instant) async throws -> MessageLog.Appended?

    /// Checks an account's token and loads its permissions.
    ///
    /// - Returns: The account and its permissions, or `nil` for an unknown account, a wrong token
    ///   or a disabled account.
    func authenticate(account: String, token: String) async throws -> (Account, Permissions)?

    /// Loads an enabled account named by a client certificate, with its permissions.
    ///
    /// - Returns: `nil` when no enabled account has that name.
    func certificateAccount(_ name: String) async throws -> (Account, Permissions)?

    /// Creates or resumes a durable consumer.
    ///
    /// - Throws: `.conflict` for an existing consumer with another pattern or `from=` without
    ///   `reset`; `.invalid` for bad settings; `.notFound` for an unknown account.
    func openConsumer(_ opening: ConsumerOpening) async throws -> ConsumerBinding

    /// Reads a page of the log (and the flash messages further on).
    func readPage(_ request: PageRequest) async throws -> LogPage

    /// Reads messages by seq (for redelivery), ascending; missing seqs are left out.
    func messages(seqs: [Int64]) async throws -> [Message]

    /// Records durable consumers' progress in one transaction.
    func recordProgress(_ progress: [ConsumerProgress]) async throws

    /// Moves messages to the dead letters and the consumer's ack floor past them, in one transaction.
    func deadLetter(_ move: DeadLetterMove) async throws

    /// Takes the dead letters an admin asked to replay for a consumer (stamping them replayed).
    ///
    /// - Returns: The messages to deliver again, ascending.
    func takeReplays(account: String, consumer: String) async throws -> [Message]

    /// Appends security events (audit trail).
    func recordSecurityEvents(_ events: [NewSecurityEvent]) async throws

    /// Stores receipt ranges (docs/AUDIT.md, "Receipts") in one statement.
    func recordReceipts(_ ranges: [ReceiptRange]) async throws

    /// Who received and acknowledged message `seq`; `nil` when no message has that seq.
    func receipts(seq: Int64) async throws -> ReceiptReport?

    /// The access version: it moves whenever an admin changes rules, clearances or accounts.
    func accessVersion() async throws -> Int64

    /// The current permissions of these accounts; `nil` for a disabled or unknown account.
    func permissions(accounts: [String]) async throws -> [String: Permissions?]
}
