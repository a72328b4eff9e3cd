public import LiaisonCore

/// What a daemon's log follower (LiaisonServer's `LogFollower`) needs from storage, so that it
/// fans out what other daemons on the same database committed (docs/ARCHITECTURE.md, invariant 13).
///
/// Separate from ``LiaisonStorage`` so that fakes of the publish path need not implement it.
/// Reads run on the follower's own libpq thread, the wait on a listener thread of its own (it
/// blocks in `poll()`); both have deadlines and throw only ``StoreError``.
public protocol LogFollowing: Sendable {
    /// The highest committed seq, or 0 for an empty log.
    ///
    /// - Throws: `.unavailable` when the database could not be reached in time.
    func headSeq() async throws -> Int64

    /// Committed messages with `after < seq < before` (no upper bound when `before` is `nil`),
    /// ascending, at most `limit`.
    ///
    /// Commit order is seq order (invariant 2), so a read that returns seq n has every committed
    /// row below n: a seq missing below it never commits later.
    ///
    /// - Throws: `.unavailable` or `.database`.
    func committed(after: Int64, before: Int64?, limit: Int) async throws -> [Message]

    /// Waits up to `timeoutMilliseconds` for `liaison_append`'s notification on
    /// ``MessageLog/commitChannel`` (migration 0011: one per batch, payload the batch's last seq).
    ///
    /// - Returns: The highest seq notified, or `nil` after the timeout, or when the channel was
    ///   just (re)opened (notifications sent while it was closed are lost: look at the log).
    /// - Throws: `.unavailable` when the connection broke (the next call reconnects).
    func waitForCommits(timeoutMilliseconds: Int) async throws -> Int64?
}
