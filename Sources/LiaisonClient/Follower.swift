import LiaisonCore
import NIOConcurrencyHelpers

/// A subscription that outlives its connection: it reconnects with backoff when the link is lost,
/// subscribes again where it stopped, hands each message to the application once per process and,
/// on a durable `ack=auto` subscription, confirms its position with cumulative `ACK`s.
///
/// Iterate it (once, from one task) to drive it: the connection is made by the first `next()`,
/// and every reconnect, confirm and duplicate check happens inside `next()`.
///
/// ```swift
/// let follower = Follower(
///     sid: "ew", pattern: "field.mm.*.early-warning", options: FollowerOptions(durable: "sittwe-desk"),
///     connect: { try await connectAndAuthenticate() }
/// )
/// for try await event in follower {
///     if case .message(let message) = event { show(message) }
/// }
/// await follower.stop()
/// ```
///
/// - On a lost link it reports ``FollowerEvent/disconnected(reason:)``, waits as
///   ``ReconnectPolicy`` says (reported as ``FollowerEvent/reconnecting(afterMilliseconds:)``),
///   connects with the `connect` factory, sends `SUB` again (see ``FollowerOptions`` for which
///   options) and reports ``FollowerEvent/connected``. A failed attempt is reported as another
///   `disconnected` and retried the same way.
/// - Errors: the first attempt's error (connect, `AUTH` or `SUB`) is thrown from `next()`, so
///   that a wrong address, credential or pattern fails at once. Later, a ``ServerError`` other than
///   409, 429, 500 or 503 (refused credentials, a forbidden pattern) is thrown, since retrying
///   cannot help; so is the last error once ``ReconnectPolicy/maxAttempts`` is exhausted. When
///   the policy forbids reconnecting (``ReconnectPolicy/never``), a lost link ends the sequence.
/// - Duplicates: a message whose seq is at or below the in-order position, or an ahead
///   (`liaison.ahead=1`) message already handed out, is dropped; see ``DeliveryLedger``.
/// - Confirms (durable `ack=auto` only): ``ConfirmPolicy`` decides when; a confirm carries the
///   in-order position, never an ahead seq above it, and covers only messages the application has
///   finished with (it has asked for the next event). After a reconnect it goes no further than
///   the new connection has delivered in order (redeliveries included), where the server would
///   cap it.
public final class Follower: AsyncSequence, Sendable {
    /// The events of the follower.
    public typealias Element = FollowerEvent

    /// The subscription id used on every connection.
    public let sid: String
    /// The topic pattern subscribed to.
    public let pattern: String
    /// The `SUB` options.
    public let options: FollowerOptions
    /// How lost links are restored.
    public let reconnectPolicy: ReconnectPolicy
    /// When cumulative confirms are sent.
    public let confirmPolicy: ConfirmPolicy

    let connect: @Sendable () async throws -> LiaisonClient
    let inputs: AsyncStream<FollowerInput>
    let feed: AsyncStream<FollowerInput>.Continuation
    let shared: NIOLockedValueBox<Shared>

    /// The state that ``ack(seq:)`` and ``stop()`` share with the iterator.
    struct Shared {
        /// What was handed out and confirmed.
        var ledger: DeliveryLedger
        /// The subscribed connection, or `nil` while the link is down.
        var link: FollowerLink?
        /// The attempt allowed to become the link.
        var generation = 0
        /// Whether ``stop()`` was called.
        var stopped = false
    }

    /// Creates a follower; nothing is sent until it is iterated.
    ///
    /// - Parameters:
    ///   - sid: The subscription id, one token (e.g. `s1`).
    ///   - pattern: The topic pattern, e.g. `field.*.*.early-warning`.
    ///   - options: The `SUB` options.
    ///   - reconnect: How to restore a lost link.
    ///   - confirm: When to confirm a durable `ack=auto` subscription's position.
    ///   - connect: Opens a new connection and authenticates it; called for every attempt.
    public init(
        sid: String,
        pattern: String,
        options: FollowerOptions = FollowerOptions(),
        reconnect: ReconnectPolicy = ReconnectPolicy(),
        confirm: ConfirmPolicy = ConfirmPolicy(),
        connect: @escaping @Sendable () async throws -> LiaisonClient
    ) {
        self.sid = sid
        self.pattern = pattern
        self.options = options
        self.reconnectPolicy = reconnect
        self.confirmPolicy = confirm
        self.connect = connect
        let (inputs, feed) = AsyncStream.makeStream(of: FollowerInput.self)
        self.inputs = inputs
        self.feed = feed
        self.shared = NIOLockedValueBox(Shared(ledger: DeliveryLedger(policy: confirm)))
    }

    /// Returns the iterator; make only one.
    public func makeAsyncIterator() -> Iterator {
        Iterator(follower: self)
    }

    /// Acknowledges one message of an `ack=explicit` subscription: writes `ACK <sid> <seq>` on the
    /// current connection without waiting for the reply. While the link is down the `ACK` is
    /// dropped (the server delivers the message again, and the follower then acknowledges the
    /// redelivery itself instead of handing it out). On `ack=auto` it does nothing, since there an
    /// `ACK` is cumulative and the follower sends it.
    ///
    /// - Parameter seq: The seq of a message handed out by this follower.
    /// - Returns: Whether there was a subscribed connection to write the `ACK` to (`false` while the
    ///   link is down, or on `ack=auto`).
    @discardableResult
    public func ack(seq: Int64) -> Bool {
        guard self.options.ack == .explicit else { return false }
        return self.shared.withLockedValue { shared in
            shared.ledger.acknowledge(seq)
            guard let link = shared.link else { return false }
            link.client.writeAck(sid: self.sid, seq: seq)
            return true
        }
    }

    /// Stops: on a durable `ack=auto` subscription sends a last cumulative confirm of everything
    /// handed out (unless ``ConfirmPolicy/confirmsOnStop`` is off), then `QUIT` (the server answers
    /// every command before it), then closes. Call it once the application has processed the
    /// messages it received. Waits at most 5 s for the server; the iteration then ends.
    public func stop() async {
        let link = self.shared.withLockedValue { shared in
            shared.stopped = true
            let link = shared.link
            shared.link = nil
            if let link, self.options.confirmsCumulatively, self.confirmPolicy.confirmsOnStop,
                let seq = shared.ledger.finalConfirm
            {
                shared.ledger.confirmSent(seq)
                link.client.writeAck(sid: self.sid, seq: seq)
            }
            return link
        }
        self.feed.yield(.stop)
        self.feed.finish()
        guard let client = link?.client else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await client.quit() }
            group.addTask { try? await Task.sleep(for: .seconds(5)) }
            await group.next()
            group.cancelAll()
            await client.close()
        }
    }

    /// Starts attempt `generation`: connect, `SUB`, then forward the messages until the connection
    /// closes; and a timer that reports the attempt as timed out.
    func startAttempt(generation: Int, isFirst: Bool) -> Task<Void, Never> {
        let resumeSeq = self.shared.withLockedValue { $0.ledger.resumeSeq }
        let options = self.options.subscribeOptions(isFirst: isFirst, resumeSeq: resumeSeq)
        Task {
            let client: LiaisonClient
            do {
                client = try await self.connect()
                do {
                    try await client.subscribe(sid: self.sid, pattern: self.pattern, options: options)
                } catch {
                    await client.close()
                    throw error
                }
            } catch {
                self.feed.yield(.attemptFailed(generation: generation, error))
                return
            }
            let link = FollowerLink(client: client, generation: generation)
            let current = self.shared.withLockedValue { shared in
                guard !shared.stopped, shared.generation == generation else { return false }
                shared.link = link
                return true
            }
            guard current else {
                await client.close()
                return
            }
            self.feed.yield(.subscribed(link))
            await link.forward(to: self.feed)
        }
        let timeout = self.reconnectPolicy.attemptTimeout
        return Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            self.feed.yield(.attemptTimedOut(generation: generation))
        }
    }

    /// Reports `.wake(generation)` after `milliseconds`.
    func wake(generation: Int, afterMilliseconds milliseconds: Int) {
        Task {
            try? await Task.sleep(for: .milliseconds(milliseconds))
            self.feed.yield(.wake(generation: generation))
        }
    }

    /// Reports `.tick` at `deadline`.
    func tick(at deadline: ContinuousClock.Instant) {
        Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            self.feed.yield(.tick)
        }
    }

    /// Whether a failed attempt after the first may be retried: anything but a server refusal that
    /// a retry cannot change.
    static func isRetryable(_ error: any Error) -> Bool {
        guard let error = error as? ServerError else { return true }
        return [409, 429, 500, 503].contains(error.code)
    }

    /// One line for a person.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as ServerError: "server replied \(error)"
        case let error as ClientError: error.message
        default: String(describing: error)
        }
    }
}
