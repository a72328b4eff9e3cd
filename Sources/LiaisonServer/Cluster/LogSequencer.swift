import LiaisonCore

/// Decides which committed messages go to the router, and when, so that every daemon on one
/// database fans out every committed message in seq order, with no gap and no duplicate,
/// whichever daemon stored it. A value type with no I/O: events in, actions out.
///
/// It owns ``released``, the highest seq handed to the router. Everything at or below it was
/// routed or is known never to exist. Two sources feed it:
/// - **local batches** from this daemon's writer, which knows their seqs and payloads. A batch
///   that follows ``released`` contiguously is routed at once, so a daemon alone pays no read.
///   Otherwise it waits while the follower reads the range below it.
/// - **follower pages**: committed rows read back from the log (the gaps below a local batch, or
///   everything past ``released`` after a notification or a poll).
///
/// Why a read never misses a row (docs/ARCHITECTURE.md, invariants 2 and 13): `liaison_append`
/// holds one advisory lock from taking seqs to its commit, so commit order is seq order. A read
/// whose snapshot sees seq n sees every committed seq below n, and a seq still missing below n
/// belongs to a transaction that rolled back and never appears. A read started after a local
/// batch at seq `first` committed therefore settles the whole range below `first`.
///
/// Reads past ``released`` with no upper bound are put off while a local append is in flight:
/// a notification may be this daemon's own, and the batch's hand-over will cover it without
/// reading its rows back.
struct LogSequencer {
    /// What the caller must do, in order.
    enum Action: Equatable {
        /// Hand these committed messages (ascending, contiguous with what was routed) to the router.
        case route([Message])
        /// Read the highest committed seq (``headRead(_:)`` or ``readFailed()`` answers).
        case readHead
        /// Read committed rows with `after < seq < before` (no upper bound when `before` is nil),
        /// ascending, at most ``pageSize`` (``pageRead(_:)`` or ``readFailed()`` answers).
        case read(after: Int64, before: Int64?)
    }

    /// The read in flight, if any: at most one at a time.
    private enum Reading: Equatable {
        case head
        case range(after: Int64, before: Int64?)
    }

    /// The highest seq handed to the router; `nil` until the log's head was read once.
    private(set) var released: Int64?
    /// Committed local batches not yet routed, ascending by first seq, each ascending.
    private var held: [[Message]] = []
    /// Local appends sent to the database and not yet answered.
    private var appendsInFlight = 0
    /// Rows up to this seq may have committed past ``released`` (a notification; `Int64.max` for a
    /// poll, a full page or a failed read): read them once no local append is in flight.
    private var wantedUpTo: Int64?
    /// The last read failed: the next waits for a poll, so an outage is not retried at every event.
    private var failed = false
    private var reading: Reading?
    /// Rows per follower read.
    let pageSize: Int

    /// - Parameter pageSize: Rows per follower read, at least 1.
    init(pageSize: Int = 1_000) {
        self.pageSize = max(1, pageSize)
    }

    /// The number of committed local messages waiting for the range below them to be read.
    var heldCount: Int { self.held.reduce(0) { $0 + $1.count } }

    /// The follower started (or restarted): read the head before anything else.
    mutating func start() -> [Action] {
        self.next()
    }

    /// The writer is about to send a batch to the database.
    mutating func appendStarted() {
        self.appendsInFlight += 1
    }

    /// The writer's append returned.
    ///
    /// - Parameter stored: The messages it stored, ascending (empty when it failed, its outcome
    ///   is unknown, or every message repeated an `id`).
    mutating func appendEnded(stored: [Message]) -> [Action] {
        self.appendsInFlight = max(0, self.appendsInFlight - 1)
        return self.committed(stored)
    }

    /// A batch whose outcome was unknown turned out to have committed (or any other local batch
    /// known to be committed outside an append).
    ///
    /// - Parameter stored: Its stored messages, ascending.
    mutating func committed(_ stored: [Message]) -> [Action] {
        if let first = stored.first?.seq {
            let at = self.held.firstIndex { ($0.first?.seq ?? 0) > first } ?? self.held.endIndex
            self.held.insert(stored, at: at)
        }
        var out: [Message] = []
        self.releaseHeld(into: &out)
        return Self.routing(out) + self.next()
    }

    /// A notification said a batch ending at `lastSeq` committed (on any daemon).
    mutating func notified(lastSeq: Int64) -> [Action] {
        if let released = self.released, lastSeq <= released { return [] }
        self.wantedUpTo = max(self.wantedUpTo ?? lastSeq, lastSeq)
        return self.next()
    }

    /// The poll interval passed, or the notification channel was (re)opened: notifications may
    /// have been missed, so look past ``released`` once.
    mutating func pollDue() -> [Action] {
        self.wantedUpTo = .max
        self.failed = false
        return self.next()
    }

    /// The head read answered.
    ///
    /// Local batches that committed before it are still routed: the start is the lower of the
    /// head and the seq below the first of them.
    mutating func headRead(_ head: Int64) -> [Action] {
        guard self.reading == .head else { return [] }
        self.reading = nil
        self.released = min(head, (self.held.first?.first?.seq).map { $0 - 1 } ?? head)
        var out: [Message] = []
        self.releaseHeld(into: &out)
        return Self.routing(out) + self.next()
    }

    /// The range read answered with `rows` (ascending).
    mutating func pageRead(_ rows: [Message]) -> [Action] {
        guard case .range(_, let before) = self.reading, var released = self.released else { return [] }
        self.reading = nil
        var out: [Message] = []
        for row in rows where row.seq > released {
            out.append(row)
            released = row.seq
        }
        if rows.count >= self.pageSize {
            // More may follow: a bounded range is read on by `next`, an open one marked wanted.
            if before == nil { self.wantedUpTo = .max }
        } else if let before {
            // The batch at `before` committed before this read began: nothing else lies below it.
            released = max(released, before - 1)
        }
        self.released = released
        self.releaseHeld(into: &out)
        return Self.routing(out) + self.next()
    }

    /// The read in flight failed (database unavailable): try again at the next poll.
    mutating func readFailed() {
        self.reading = nil
        self.failed = true
    }

    /// Routes held local batches that now follow ``released``; drops what a page already routed.
    private mutating func releaseHeld(into out: inout [Message]) {
        guard var released = self.released else { return }
        while let batch = self.held.first, let first = batch.first?.seq, let last = batch.last?.seq {
            if last <= released {
                self.held.removeFirst()
                continue
            }
            guard first <= released + 1 else { break }
            for message in batch where message.seq > released { out.append(message) }
            released = last
            self.held.removeFirst()
        }
        self.released = released
    }

    /// The next read, if one is due and none is in flight.
    private mutating func next() -> [Action] {
        guard self.reading == nil, !self.failed else { return [] }
        guard let released = self.released else {
            self.reading = .head
            return [.readHead]
        }
        if let first = self.held.first?.first?.seq, first > released + 1 {
            self.reading = .range(after: released, before: first)
            return [.read(after: released, before: first)]
        }
        if let wanted = self.wantedUpTo, wanted <= released { self.wantedUpTo = nil }
        guard self.wantedUpTo != nil, self.appendsInFlight == 0 else { return [] }
        self.wantedUpTo = nil
        self.reading = .range(after: released, before: nil)
        return [.read(after: released, before: nil)]
    }

    private static func routing(_ messages: [Message]) -> [Action] {
        messages.isEmpty ? [] : [.route(messages)]
    }
}
