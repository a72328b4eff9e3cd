import NIOCore

/// Keeps up to `window` publishes unanswered on one connection, sending the next one as each
/// reply arrives: the sliding window behind ``LiaisonClient/publishWindowed(count:window:pacing:message:)``.
///
/// It runs entirely on the channel's event loop, so that a reply's callback writes the next
/// publish without a thread hop and the measured latency is that of the server, not of task
/// scheduling. Writes made while handling one burst of replies are flushed together. A
/// ``PublishPacing`` interval holds each write until its scheduled instant (a timer on the event
/// loop re-arms the window); a deadline ends the sending early.
final class PublishWindow: @unchecked Sendable {
    // @unchecked: every stored property is read and written on `channel.eventLoop` only; the
    // instance crosses to it once, in `start()`.
    private let channel: any Channel
    private let count: Int
    private let window: Int
    private let pacing: PublishPacing
    private let message: @Sendable (Int) -> (topic: String, payload: [UInt8], headers: [(String, String)])
    private let done: EventLoopPromise<WindowedPublishReport>

    private var nextIndex = 0
    private var inFlight = 0
    private var answered = 0
    private var flushScheduled = false
    private var timerArmed = false
    /// Set once the deadline has passed: nothing more is written.
    private var stoppedSending = false
    private var failed = false
    private var startedAt: ContinuousClock.Instant = .now
    private var report = WindowedPublishReport()

    init(
        channel: any Channel,
        count: Int,
        window: Int,
        pacing: PublishPacing = PublishPacing(),
        message: @escaping @Sendable (Int) -> (topic: String, payload: [UInt8], headers: [(String, String)])
    ) {
        self.channel = channel
        self.count = count
        self.window = window
        self.pacing = pacing
        self.message = message
        self.done = channel.eventLoop.makePromise()
        // A duration-bound run passes a huge count: reserve for what a run plausibly answers.
        self.report.latencies.reserveCapacity(min(count, 1 << 20))
    }

    /// Starts sending and returns the report once every publish is answered.
    func start() -> EventLoopFuture<WindowedPublishReport> {
        self.channel.eventLoop.execute {
            self.startedAt = .now
            if self.count == 0 {
                self.done.succeed(self.report)
            } else {
                self.refill()
            }
        }
        return self.done.futureResult
    }

    private func refill() {
        while !self.failed, !self.stoppedSending, self.inFlight < self.window, self.nextIndex < self.count {
            if let deadline = self.pacing.deadline, ContinuousClock.now >= deadline {
                self.stoppedSending = true
                self.finishIfDone()
                break
            }
            if let interval = self.pacing.interval {
                let due = self.startedAt + interval * self.nextIndex
                let wait = due - ContinuousClock.now
                if wait > .zero {
                    self.armTimer(after: wait)
                    break
                }
            }
            let item = self.message(self.nextIndex)
            self.nextIndex += 1
            let frame: ByteBuffer
            do {
                frame = try LiaisonClient.publishFrame(topic: item.topic, payload: item.payload, headers: item.headers)
            } catch {
                self.fail(error)
                return
            }
            let reply = self.channel.eventLoop.makePromise(of: Reply.self)
            let sentAt = ContinuousClock.now
            reply.futureResult.whenComplete { result in
                self.complete(result, sentAt: sentAt)
            }
            self.inFlight += 1
            let written = self.channel.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenFailure { error in
                reply.fail(ClientError(.connectionClosed, "the connection is closed (\(error))"))
            }
            self.channel.write(ClientRequest.send(frame, replies: [reply]), promise: written)
        }
        if !self.flushScheduled {
            self.flushScheduled = true
            self.channel.eventLoop.execute {
                self.flushScheduled = false
                self.channel.flush()
            }
        }
    }

    private func complete(_ result: Result<Reply, any Error>, sentAt: ContinuousClock.Instant) {
        self.inFlight -= 1
        self.answered += 1
        switch result {
        case .success(let reply):
            do {
                switch try LiaisonClient.publishAck(from: reply.line) {
                case .success(let ack):
                    self.report.acknowledged += 1
                    self.report.duplicates += ack.duplicate ? 1 : 0
                    self.report.latencies.append(reply.receivedAt - sentAt)
                case .failure(let error):
                    self.report.errors.append(error)
                }
            } catch {
                self.fail(error)
            }
        case .failure(let error):
            self.fail(error)
        }
        guard !self.failed else {
            return
        }
        if !self.finishIfDone() {
            self.refill()
        }
    }

    /// Succeeds once nothing is in flight and nothing more will be written; returns whether it did.
    @discardableResult
    private func finishIfDone() -> Bool {
        guard self.inFlight == 0, self.nextIndex == self.count || self.stoppedSending else {
            return false
        }
        self.report.elapsed = .now - self.startedAt
        self.done.succeed(self.report)
        return true
    }

    /// Calls `refill` again once a paced write is due (one timer at a time).
    private func armTimer(after wait: Duration) {
        guard !self.timerArmed else {
            return
        }
        self.timerArmed = true
        let (seconds, attoseconds) = wait.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        self.channel.eventLoop.scheduleTask(in: .nanoseconds(max(nanoseconds, 1))) {
            self.timerArmed = false
            self.refill()
        }
    }

    private func fail(_ error: any Error) {
        guard !self.failed else {
            return
        }
        self.failed = true
        self.done.fail(error)
    }
}
