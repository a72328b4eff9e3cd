import NIOConcurrencyHelpers

extension Follower {
    /// Drives a ``Follower``: each `next()` waits for the next input from the follower's tasks
    /// (attempt results, messages, losses, timers), applies ``Backoff`` and ``DeliveryLedger`` to it
    /// and returns the next event.
    public struct Iterator: AsyncIteratorProtocol {
        private enum Phase {
            case idle
            case connecting(generation: Int, timer: Task<Void, Never>)
            case subscribed(FollowerLink, heartbeat: Task<Void, Never>?)
            case waiting(generation: Int)
            case finished
        }

        private let follower: Follower
        private var inputs: AsyncStream<FollowerInput>.Iterator
        private var phase = Phase.idle
        private var backoff: Backoff
        private var everSubscribed = false
        private var pending: [FollowerEvent] = []
        private var timerDeadline: ContinuousClock.Instant?

        init(follower: Follower) {
            self.follower = follower
            self.inputs = follower.inputs.makeAsyncIterator()
            self.backoff = Backoff(policy: follower.reconnectPolicy)
        }

        /// The next event, or `nil` once the follower was stopped, the iterating task was cancelled,
        /// or the link was lost with reconnecting forbidden.
        ///
        /// - Throws: The first attempt's error; later, a ``ServerError`` a retry cannot change, or
        ///   the last error when ``ReconnectPolicy/maxAttempts`` is exhausted.
        public mutating func next() async throws -> FollowerEvent? {
            while true {
                if !self.pending.isEmpty {
                    return self.pending.removeFirst()
                }
                switch self.phase {
                case .finished:
                    return nil
                case .idle:
                    self.beginAttempt()
                case .subscribed(let link, _):
                    self.confirmIfDue(on: link)
                case .connecting, .waiting:
                    break
                }
                guard let input = await self.inputs.next() else {
                    self.finish()
                    return nil
                }
                if let event = try self.handle(input) {
                    return event
                }
            }
        }

        private mutating func handle(_ input: FollowerInput) throws -> FollowerEvent? {
            switch input {
            case .subscribed(let link):
                guard case .connecting(let generation, let timer) = self.phase, generation == link.generation else {
                    return nil
                }
                timer.cancel()
                if self.everSubscribed {
                    self.follower.shared.withLockedValue { $0.ledger.reconnected() }
                }
                self.everSubscribed = true
                let heartbeat = self.follower.reconnectPolicy.heartbeat.map { interval in
                    Task { await link.keepAlive(every: interval) }
                }
                self.phase = .subscribed(link, heartbeat: heartbeat)
                return .connected
            case .attemptFailed(let generation, let error):
                guard case .connecting(generation, let timer) = self.phase else { return nil }
                timer.cancel()
                try self.attemptFailed(error)
            case .attemptTimedOut(let generation):
                let overtaken = self.follower.shared.withLockedValue { shared in
                    guard shared.link?.generation != generation else { return false }
                    shared.generation += 1
                    return true
                }
                guard overtaken, case .connecting(generation, _) = self.phase else { return nil }
                let timeout = self.follower.reconnectPolicy.attemptTimeout.wholeMilliseconds
                try self.attemptFailed(ClientError(.connectionClosed, "no answer within \(timeout) ms"))
            case .message(let generation, let message):
                return self.receive(message, generation: generation)
            case .lost(let generation, let reason):
                guard case .subscribed(let link, let heartbeat) = self.phase, link.generation == generation else {
                    return nil
                }
                heartbeat?.cancel()
                self.follower.shared.withLockedValue { shared in
                    if shared.link === link { shared.link = nil }
                }
                self.backoff.connectionEnded(after: ContinuousClock.now - link.subscribedAt)
                self.pending.append(.disconnected(reason: reason))
                try self.scheduleRetry(failure: nil)
            case .wake(let generation):
                if case .waiting(generation) = self.phase {
                    self.beginAttempt()
                }
            case .tick:
                self.timerDeadline = nil
            case .stop:
                self.finish()
            }
            return nil
        }

        private mutating func receive(_ message: ReceivedMessage, generation: Int) -> FollowerEvent? {
            guard case .subscribed(let link, _) = self.phase, link.generation == generation else {
                return nil
            }
            let sid = self.follower.sid
            let verdict = self.follower.shared.withLockedValue { shared in
                let verdict = shared.ledger.receive(seq: message.seq, isAhead: message.isAhead, at: .now)
                if verdict == .duplicate(reacknowledge: true), shared.link === link {
                    link.client.writeAck(sid: sid, seq: message.seq)
                }
                return verdict
            }
            return verdict == .deliver ? .message(message) : nil
        }

        private mutating func beginAttempt() {
            let generation = self.follower.shared.withLockedValue { shared in
                shared.generation += 1
                return shared.generation
            }
            let timer = self.follower.startAttempt(generation: generation, isFirst: !self.everSubscribed)
            self.phase = .connecting(generation: generation, timer: timer)
        }

        private mutating func attemptFailed(_ error: any Error) throws {
            guard self.everSubscribed, Follower.isRetryable(error) else {
                self.finish()
                throw error
            }
            self.pending.append(.disconnected(reason: Follower.describe(error)))
            try self.scheduleRetry(failure: error)
        }

        /// Waits before the next attempt, or ends (throwing `failure`, if any) when the policy
        /// allows no more attempts.
        private mutating func scheduleRetry(failure: (any Error)?) throws {
            let stopped = self.follower.shared.withLockedValue { $0.stopped }
            var random = SystemRandomNumberGenerator()
            guard !stopped, let delay = self.backoff.nextDelay(using: &random) else {
                self.finish()
                if let failure, !stopped { throw failure }
                return
            }
            let generation = self.follower.shared.withLockedValue { shared in
                shared.generation += 1
                return shared.generation
            }
            self.phase = .waiting(generation: generation)
            self.pending.append(.reconnecting(afterMilliseconds: delay))
            self.follower.wake(generation: generation, afterMilliseconds: delay)
        }

        /// Sends the cumulative confirm when one is due, and arms the timer for the next one.
        private mutating func confirmIfDue(on link: FollowerLink) {
            guard self.follower.options.confirmsCumulatively else { return }
            let sid = self.follower.sid
            let deadline = self.follower.shared.withLockedValue { shared in
                if shared.link === link, let seq = shared.ledger.confirmDue(at: .now) {
                    shared.ledger.confirmSent(seq)
                    link.client.writeAck(sid: sid, seq: seq)
                }
                return shared.ledger.confirmDeadline
            }
            if let deadline, self.timerDeadline.map({ deadline < $0 }) ?? true {
                self.timerDeadline = deadline
                self.follower.tick(at: deadline)
            }
        }

        private mutating func finish() {
            switch self.phase {
            case .connecting(_, let timer):
                timer.cancel()
            case .subscribed(_, let heartbeat):
                heartbeat?.cancel()
            case .idle, .waiting, .finished:
                break
            }
            self.phase = .finished
        }
    }
}
