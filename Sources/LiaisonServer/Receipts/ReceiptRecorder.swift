import Foundation
import LiaisonStore
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Writes the sessions' receipt ranges to the store off the event loops: every
/// `receipts.flushMilliseconds`, everything queued in one statement (docs/AUDIT.md, "Receipts").
///
/// A service of the daemon's `ServiceGroup`, stopped after the listeners, so the ranges of the
/// sessions that closed at shutdown are written last. While the store is unavailable the ranges
/// wait in a ``ReceiptQueue`` (merged per subscription, bounded); what it must drop is counted and
/// logged, never silently lost.
final class ReceiptRecorder: Service, Sendable {
    private let storage: any LiaisonStorage
    private let logger: Logger
    /// How often ranges are closed and written, in milliseconds.
    let flushMilliseconds: Int64
    // Safe to share: the queue is guarded by the lock.
    private let queue: NIOLockedValueBox<ReceiptQueue>

    init(storage: any LiaisonStorage, settings: ReceiptSettings, logger: Logger) {
        self.storage = storage
        self.logger = logger
        self.flushMilliseconds = max(10, settings.flushMilliseconds)
        self.queue = NIOLockedValueBox(ReceiptQueue(capacity: settings.maxQueuedRanges))
    }

    /// Ranges dropped because the queue was full, since the start.
    var dropped: Int { self.queue.withLockedValue { $0.dropped } }

    /// Ranges waiting to be written.
    var queued: Int { self.queue.withLockedValue { $0.entries.count } }

    /// Queues the closed spans of subscriptions; never blocks on I/O.
    ///
    /// - Parameters:
    ///   - batches: Spans with monotonic times (``Monotonic/milliseconds()``).
    ///   - now: The monotonic time now, to turn span times into wall-clock times.
    func record(_ batches: [ReceiptBatch], now: Int64 = Monotonic.milliseconds()) {
        let wall = Date()
        self.queue.withLockedValue { queue in
            for batch in batches {
                for span in batch.spans {
                    let key: ReceiptQueue.MergeKey? =
                        span.kind == .inOrder || span.kind == .floor
                        ? .init(subscriptionID: batch.identity.subscriptionID, kind: span.kind) : nil
                    queue.add(Self.range(span, batch.identity, wall: wall, now: now), key: key, follows: span.follows)
                }
            }
        }
    }

    static func range(_ span: ReceiptLedger.Span, _ identity: ReceiptIdentity, wall: Date, now: Int64) -> ReceiptRange {
        ReceiptRange(
            account: identity.account,
            consumer: identity.consumer,
            connection: identity.connection,
            subscription: identity.sid,
            pattern: identity.pattern,
            clearance: span.clearance,
            event: span.event,
            firstSeq: span.firstSeq,
            lastSeq: span.lastSeq,
            firstAt: wall.addingTimeInterval(Double(span.firstAt - now) / 1000),
            lastAt: wall.addingTimeInterval(Double(span.lastAt - now) / 1000)
        )
    }

    func run() async {
        var failures = 0
        var reportedDrops = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(self.flushMilliseconds))
            failures = await self.flush(failures: failures)
            let dropped = self.dropped
            if dropped > reportedDrops {
                self.logger.error(
                    "receipt ranges dropped: the queue is full while the database is unavailable",
                    metadata: ["liaison.dropped": "\(dropped - reportedDrops)", "liaison.dropped.total": "\(dropped)"]
                )
                reportedDrops = dropped
            }
        }
        // Shutdown: what the closing sessions handed over, once more.
        _ = await self.flush(failures: failures)
    }

    /// Writes everything queued; on failure puts it back.
    ///
    /// - Returns: Consecutive failures so far (0 after a success).
    func flush(failures: Int = 0) async -> Int {
        let taken = self.queue.withLockedValue { $0.take() }
        guard !taken.isEmpty else { return failures }
        do {
            try await self.storage.recordReceipts(taken.map(\.range))
            if failures > 0 {
                self.logger.info("receipts recorded again", metadata: ["liaison.ranges": "\(taken.count)"])
            }
            return 0
        } catch {
            self.queue.withLockedValue { $0.restore(taken) }
            // The first failure and then every 20th, not every second of an outage.
            if failures == 0 || (failures + 1) % 20 == 0 {
                self.logger.warning(
                    "receipts not recorded, retrying",
                    metadata: ["liaison.ranges": "\(taken.count)", LogKey.error: "\(error)"]
                )
            }
            return failures + 1
        }
    }
}
