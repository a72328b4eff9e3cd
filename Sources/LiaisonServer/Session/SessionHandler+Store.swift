import LiaisonCore
import LiaisonStore
import NIOCore

extension SessionHandler {
    /// Executes a ``StoreRequest`` off the event loop and feeds the answer back to the machine.
    func ask(_ request: StoreRequest) {
        guard let context = self.context else { return self.askDetached(request) }
        let storage = self.shared.storage
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let durables = self.shared.durables
        let counters = self.shared.counters
        if case .openConsumer(_, let opening) = request {
            // Should the lease be lost to another daemon (a database reconnect), end this connection.
            let channel = context.channel
            durables.attach(account: opening.account, name: opening.name) { channel.close(promise: nil) }
        }
        let promise = context.eventLoop.makePromise(of: StoreAnswer?.self)
        Task(executorPreference: StorageExecutor.shared) {
            promise.succeed(
                await SessionHandler.answer(request, storage: storage, durables: durables, counters: counters)
            )
        }
        promise.futureResult.whenSuccess { answer in
            guard let answer else { return }
            handler.value.run { $0.storeAnswered(answer, now: Monotonic.milliseconds()) }
        }
    }

    /// A request made as the connection closed: nobody waits for its answer.
    private func askDetached(_ request: StoreRequest) {
        let storage = self.shared.storage
        let durables = self.shared.durables
        let counters = self.shared.counters
        Task(executorPreference: StorageExecutor.shared) {
            await SessionHandler.answerIgnored(request, storage: storage, durables: durables, counters: counters)
        }
    }

    private static func answerIgnored(
        _ request: StoreRequest,
        storage: any LiaisonStorage,
        durables: DurableRegistry,
        counters: ServerCounters
    )
        async
    {
        if await SessionHandler.answer(request, storage: storage, durables: durables, counters: counters) != nil {
            return
        }
    }

    private static func answer(
        _ request: StoreRequest,
        storage: any LiaisonStorage,
        durables: DurableRegistry,
        counters: ServerCounters
    ) async -> StoreAnswer? {
        switch request {
        case .authenticate(let account, let token):
            let result = await SessionHandler.result(counters) {
                try await storage.authenticate(account: account, token: token)
            }
            return .authenticated(account: account, result)
        case .certificate(let account):
            let result = await SessionHandler.result(counters) { try await storage.certificateAccount(account) }
            return .certificate(account: account, result)
        case .openConsumer(let sid, let opening):
            return .consumerOpened(
                sid: sid,
                await SessionHandler.result(counters) { try await storage.openConsumer(opening) }
            )
        case .readPage(let sid, let subscriptionID, let page):
            let result = await SessionHandler.result(counters) { try await storage.readPage(page) }
            return .page(sid: sid, subscriptionID: subscriptionID, request: page, result)
        case .redeliver(let sid, let subscriptionID, let seqs, let deliveries):
            let result = await SessionHandler.result(counters) { try await storage.messages(seqs: seqs) }
            return .redelivery(sid: sid, subscriptionID: subscriptionID, deliveries: deliveries, result)
        case .recordProgress(let progress):
            return .progressRecorded(
                await SessionHandler.result(counters) { try await storage.recordProgress(progress) }
            )
        case .releaseConsumer(let progress, let account, let name):
            // Recorded first, freed second: whoever binds the consumer next reads this progress.
            if let progress {
                _ = await SessionHandler.result(counters) { try await storage.recordProgress([progress]) }
            }
            durables.release(account: account, name: name)
            return nil
        case .deadLetter(let sid, let subscriptionID, let move):
            let result = await SessionHandler.result(counters) { try await storage.deadLetter(move) }
            return .deadLettered(sid: sid, subscriptionID: subscriptionID, move: move, result)
        case .takeReplays(let sid, let subscriptionID, let account, let consumer):
            let result = await SessionHandler.result(counters) {
                try await storage.takeReplays(account: account, consumer: consumer)
            }
            return .replays(sid: sid, subscriptionID: subscriptionID, result)
        case .receipts(let ticket, let seq):
            let result = await SessionHandler.result(counters) { try await storage.receipts(seq: seq) }
            return .receipts(ticket: ticket, seq: seq, result)
        }
    }

    /// The call's result; a database error is counted (``ServerCounters/storageCallFailed(_:)``).
    private static func result<T>(
        _ counters: ServerCounters,
        _ body: () async throws -> T
    ) async -> Result<T, StoreError> {
        do {
            return .success(try await body())
        } catch {
            let failure = StoreError.wrap(error)
            counters.storageCallFailed(failure)
            return .failure(failure)
        }
    }
}
