import DequeModule
import LiaisonStore

/// The group-commit queue, without I/O or threads: publishes in, batches out.
///
/// While one batch is being committed, new publishes queue up; when the commit returns,
/// everything queued (up to a count and a byte budget) becomes the next batch, one transaction
/// and one round trip (docs/ARCHITECTURE.md, "Publish path"). A publish that waited longer than
/// the publish timeout is never sent: its publisher was already answered `ERR 503`.
struct PublishBatcher<Reply> {
    /// One queued publish.
    struct Pending {
        var message: NewMessage
        /// When it was queued, monotonic milliseconds.
        var queuedAt: Int64
        /// Whoever waits for the outcome.
        var reply: Reply
    }

    /// At most this many messages per batch.
    let maxBatchCount: Int
    /// At most about this many payload bytes per batch (a single larger message goes alone).
    let maxBatchBytes: Int
    /// A publish older than this (milliseconds) is expired instead of sent.
    let timeoutMilliseconds: Int64

    private(set) var queue = Deque<Pending>()
    private(set) var queuedBytes = 0

    init(maxBatchCount: Int, maxBatchBytes: Int, timeoutMilliseconds: Int64) {
        self.maxBatchCount = max(1, maxBatchCount)
        self.maxBatchBytes = max(1, maxBatchBytes)
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    var isEmpty: Bool { self.queue.isEmpty }

    /// The deadline of the oldest queued publish (monotonic milliseconds), if any.
    var oldestDeadline: Int64? { self.queue.first.map { $0.queuedAt + self.timeoutMilliseconds } }

    mutating func enqueue(_ message: NewMessage, now: Int64, reply: Reply) {
        self.queue.append(Pending(message: message, queuedAt: now, reply: reply))
        self.queuedBytes += message.payload.count
    }

    /// Takes the next batch, oldest first, and the publishes that expired while queued.
    mutating func takeBatch(now: Int64) -> (batch: [Pending], expired: [Pending]) {
        var expired: [Pending] = []
        while let first = self.queue.first, first.queuedAt + self.timeoutMilliseconds <= now {
            expired.append(self.queue.removeFirst())
            self.queuedBytes -= first.message.payload.count
        }
        var batch: [Pending] = []
        var bytes = 0
        while let next = self.queue.first {
            let size = next.message.payload.count
            if !batch.isEmpty && (batch.count >= self.maxBatchCount || bytes + size > self.maxBatchBytes) { break }
            batch.append(self.queue.removeFirst())
            bytes += size
        }
        self.queuedBytes -= bytes
        return (batch, expired)
    }

    /// Takes everything queued (shutdown of a writer that can no longer commit).
    mutating func takeAll() -> [Pending] {
        defer {
            self.queue.removeAll()
            self.queuedBytes = 0
        }
        return Array(self.queue)
    }
}

extension PublishBatcher: Sendable where Reply: Sendable {}
extension PublishBatcher.Pending: Sendable where Reply: Sendable {}
