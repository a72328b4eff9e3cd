import Foundation
import Postgres

/// Makes batches on different writer connections take the append lock in the order the writer
/// sent them (their tokens count up by one per batch), so seq order is send order and one
/// publisher's messages get seqs in the order it sent them.
///
/// A batch's turn comes when the batch before it holds the append lock (its `liaison_append`
/// statement returned inside its open transaction) or is finished. It then queues on the lock
/// behind that batch, and PostgreSQL grants the lock to it next. Only the commit of one batch
/// overlaps the sending of the next; seqs and commits stay one batch at a time
/// (docs/ARCHITECTURE.md, "Publish path" and invariant 2).
///
/// The first token seen starts the count: the writer sends its second batch only after its
/// first one returned, so the first seen is the first sent.
final class AppendTurns: @unchecked Sendable {
    // @unchecked: every field is touched only while holding `condition`.
    private let condition = NSCondition()
    /// The token whose turn it is; `nil` until the first batch arrives.
    private var next: Int64?
    /// Tokens past `next` that are already done (their turn, or their caller's deadline, passed).
    private var done: Set<Int64> = []

    /// Waits (blocking a libpq thread) until the batch under `token` may take the append lock.
    ///
    /// - Returns: `false` if `deadline` passed first or the batch was given up (``finish(_:)``
    ///   came first): it must not be sent. A batch with a token below the one whose turn it is
    ///   goes at once (`true`), out of turn: only the first batches after a start can be in that
    ///   position, and the log fan-out orders what they commit (invariant 13).
    func waitForTurn(_ token: Int64, until deadline: ContinuousClock.Instant) -> Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        if self.next == nil { self.next = token }
        while true {
            if self.done.contains(token) { return false }
            // Its turn; or a batch from before the first one seen (the first two batches after a
            // start may reach this gate in either order), which goes at once, out of turn.
            guard let next = self.next, token > next else { return true }
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { return false }
            let (seconds, attoseconds) = remaining.components
            let wait = Double(seconds) + Double(attoseconds) / 1e18
            _ = self.condition.wait(until: Date(timeIntervalSinceNow: min(wait, 1)))
        }
    }

    /// The batch under `token` holds the append lock, or is finished, or was given up: the next
    /// one may go. Idempotent.
    func finish(_ token: Int64) {
        self.condition.lock()
        defer { self.condition.unlock() }
        guard let next = self.next, token >= next else { return }
        self.done.insert(token)
        var advanced = next
        while self.done.remove(advanced) != nil { advanced += 1 }
        self.next = advanced
        self.condition.broadcast()
    }
}
