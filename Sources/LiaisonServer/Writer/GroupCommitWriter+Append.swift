import LiaisonCore
import LiaisonStore
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A batch sent to the store whose outcome the commit loop has not settled yet.
struct InFlightAppend: Sendable {
    var token: Int64
    var batch: [GroupCommitWriter.Pending]
    /// The publish deadline of the batch (monotonic milliseconds).
    var deadline: Int64
    /// The storage call; it ends by the deadline at the latest (``LiaisonStorage`` calls do).
    var task: Task<Result<MessageLog.Appended, StoreError>, Never>
}

extension GroupCommitWriter {
    func nextToken() -> Int64 {
        self.tokens.withLockedValue {
            $0 &+= 1
            return $0
        }
    }

    /// A deadline on ``clock`` as an instant for the store's calls.
    func instant(_ milliseconds: Int64) -> ContinuousClock.Instant {
        .now + .milliseconds(milliseconds - self.clock())
    }

    /// The publish deadline of a batch: that of its oldest publish, but never in the past.
    func deadline(of batch: [Pending]) -> Int64 {
        let oldest = batch.map(\.queuedAt).min() ?? self.clock()
        return max(oldest + self.timeoutMilliseconds, self.clock() + 50)
    }

    /// Sends a batch to the store without waiting for it; the commit loop settles it later.
    func send(_ batch: [Pending]) -> InFlightAppend {
        self.send(batch, deadline: self.deadline(of: batch))
    }

    private func send(_ batch: [Pending], deadline: Int64) -> InFlightAppend {
        let token = self.nextToken()
        let monitored = self.monitor.started()
        self.router.appendStarted()
        let messages = batch.map(\.message)
        let until = self.instant(deadline)
        let task = Task(executorPreference: StorageExecutor.shared) {
            () -> Result<MessageLog.Appended, StoreError> in
            let result: Result<MessageLog.Appended, StoreError>
            do {
                result = .success(
                    try await self.storage.append(
                        messages,
                        token: token,
                        dedupeWindowSeconds: self.dedupeWindowSeconds,
                        deadline: until
                    )
                )
            } catch {
                result = .failure(StoreError.wrap(error))
            }
            self.monitor.finished(monitored, messages: messages.count, succeeded: (try? result.get()) != nil)
            self.appendReturned(token: token)
            return result
        }
        return InFlightAppend(token: token, batch: batch, deadline: deadline, task: task)
    }

    /// Commits one batch (first resolving the batches left in doubt, in send order) and waits
    /// for it; returns what is in doubt now.
    func commit(_ batch: [Pending], after doubts: [InDoubtBatch]) async -> [InDoubtBatch] {
        let deadline = self.deadline(of: batch)
        let unresolved = await self.resolve(doubts, until: deadline, patiently: true)
        guard unresolved.isEmpty else {
            // Nothing may commit before the earlier batches are known (or its seqs would reach
            // live subscribers out of order): these were never sent.
            Self.answer(batch) { _ in .failure(.notStored("database unavailable")) }
            return unresolved
        }
        return await self.settle(self.send(batch, deadline: deadline)).map { [$0] } ?? []
    }

    /// Waits for a sent batch's outcome and acts on it: routes and answers a committed batch,
    /// looks up one in doubt, retries a refused one message by message; returns what is in
    /// doubt now.
    func settle(_ append: InFlightAppend) async -> InDoubtBatch? {
        let result = await append.task.value
        self.settled(token: append.token)
        let batch = append.batch
        switch result {
        case .success(let appended):
            self.deliver(batch, appended, appendEnded: true)
            return nil
        case .failure(let error):
            self.router.appendEnded(stored: [])
            if error.outcomeUnknown {
                self.logger.warning(
                    "batch commit interrupted, looking up its outcome",
                    metadata: ["batch.count": "\(batch.count)", LogKey.error: "\(error)"]
                )
                let doubt = InDoubtBatch(token: append.token, batch: batch)
                switch await self.resolve(doubt, until: append.deadline) {
                case .resolved: return nil
                case .unknown:
                    Self.answer(batch) { _ in .failure(.outcomeUnknown) }
                    let answered = batch.map { Pending(message: $0.message, queuedAt: $0.queuedAt, reply: .answered) }
                    return InDoubtBatch(token: append.token, batch: answered)
                }
            }
            if error.code != .unavailable && batch.count > 1 {
                // One bad row fails its whole transaction: commit the rows one by one so a
                // single poison message cannot cost every other publisher in the batch.
                self.logger.warning(
                    "batch refused, retrying its messages one by one",
                    metadata: [LogKey.error: "\(error)"]
                )
                for (index, pending) in batch.enumerated() {
                    if let doubt = await self.settle(self.send([pending], deadline: append.deadline)) {
                        // The rest were never sent: certainly not stored, so say so now rather
                        // than leave them to the session's publish timeout.
                        Self.answer(Array(batch[(index + 1)...])) { _ in .failure(.notStored("database unavailable")) }
                        return doubt
                    }
                }
                return nil
            }
            self.logger.error(
                "publish batch failed",
                metadata: ["batch.count": "\(batch.count)", LogKey.error: "\(error)"]
            )
            Self.answer(batch) { _ in .failure(.notStored(error.message)) }
            return nil
        }
    }

    /// Fans a committed batch out and answers its publishers; `appendEnded` when it is the
    /// answer of the append just sent (not a batch in doubt looked up later).
    func deliver(_ batch: [Pending], _ appended: MessageLog.Appended, appendEnded: Bool) {
        var stored: [Message] = []
        stored.reserveCapacity(batch.count)
        for (offset, pending) in batch.enumerated() where !appended.duplicates[offset] {
            stored.append(
                Message(
                    seq: appended.seqs[offset],
                    topic: pending.message.topic,
                    account: pending.message.account,
                    publishedAt: appended.publishedAt,
                    headers: pending.message.headers.sortedByKey(),
                    payload: pending.message.payload
                )
            )
        }
        // Duplicates were stored before: they are neither routed nor delivered again.
        if appendEnded {
            self.router.appendEnded(stored: stored)
        } else {
            self.router.committed(stored)
        }
        Self.answer(batch) { index in
            .success(Outcome(seq: appended.seqs[index], duplicate: appended.duplicates[index]))
        }
    }

    /// One task per event loop per batch, not one per message.
    static func answer(_ batch: [Pending], _ outcome: (Int) -> Result<Outcome, PublishFailure>) {
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, calls: [(Completion, Result<Outcome, PublishFailure>)])] =
            [:]
        for (index, pending) in batch.enumerated() {
            guard let loop = pending.reply.eventLoop else { continue }
            byLoop[ObjectIdentifier(loop), default: (loop, [])].calls.append(
                (pending.reply.completion, outcome(index))
            )
        }
        for (_, entry) in byLoop {
            let calls = entry.calls
            entry.loop.execute {
                for (completion, result) in calls { completion(result) }
            }
        }
    }
}
