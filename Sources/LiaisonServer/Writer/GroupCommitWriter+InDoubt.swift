import LiaisonStore
import Logging
import NIOCore

/// A batch whose commit was interrupted: its token, and its messages (to route if it committed).
struct InDoubtBatch: Sendable {
    var token: Int64
    var batch: [GroupCommitWriter.Pending]
}

/// Batches in doubt: looked up by token until their outcome is known (docs/ARCHITECTURE.md,
/// "Publish path", step 6).
extension GroupCommitWriter {
    enum Resolution { case resolved, unknown }

    /// Looks up a batch in doubt until it is known or `deadline` passes; a committed one is
    /// routed and answered, an uncommitted one answered `not stored`.
    func resolve(_ doubt: InDoubtBatch, until deadline: Int64) async -> Resolution {
        var pause: Int64 = 100
        while true {
            let remaining = deadline - self.clock()
            guard remaining > 0 else { return .unknown }
            if await self.lookUp(doubt, until: deadline) == .resolved { return .resolved }
            try? await Task.sleep(for: .milliseconds(min(pause, max(1, remaining))))
            pause = min(pause * 2, 1_000)
        }
    }

    /// Looks up a batch in doubt once (by `deadline`); a committed one is routed and answered,
    /// an uncommitted one answered `not stored`; `.unknown` when the store did not answer.
    func lookUp(_ doubt: InDoubtBatch, until deadline: Int64) async -> Resolution {
        let found: MessageLog.Appended?
        do {
            found = try await self.storage.resolveBatch(token: doubt.token, deadline: self.instant(deadline))
        } catch {
            return .unknown
        }
        if let found {
            self.logger.notice(
                "interrupted batch had committed: routing it",
                metadata: ["batch.count": "\(doubt.batch.count)"]
            )
            self.deliver(doubt.batch, found, appendEnded: false)
        } else {
            self.logger.notice(
                "interrupted batch had not committed",
                metadata: ["batch.count": "\(doubt.batch.count)"]
            )
            Self.answer(doubt.batch) { _ in .failure(.notStored("connection lost before commit")) }
        }
        return .resolved
    }

    /// Looks up the batches in doubt in the order they were sent, each until `deadline` when
    /// `patiently` or else once, stopping at the first whose outcome the store does not give;
    /// returns the ones still in doubt (that one and every later one, still in send order).
    ///
    /// A batch settled behind one in doubt may already have been routed (``settle(_:)`` looks
    /// up its own outcome); the daemon's ``LogFanOut`` still hands the router seqs in order, as
    /// it holds a later batch until the range below it is read from the log.
    func resolve(_ doubts: [InDoubtBatch], until deadline: Int64, patiently: Bool) async -> [InDoubtBatch] {
        for (index, doubt) in doubts.enumerated() {
            let resolution =
                patiently
                ? await self.resolve(doubt, until: deadline) : await self.lookUp(doubt, until: deadline)
            if resolution == .unknown { return Array(doubts[index...]) }
        }
        return []
    }
}
