import Foundation
import LiaisonCore
import LiaisonStore

/// A frame the session sends, in the order the state machine released it.
///
/// The machine deals in frames, not bytes, so its tests compare values; the handler encodes them
/// (`ServerLine` text, or a `MSG` header and payload).
enum OutboundFrame: Equatable, Sendable {
    /// A reply or server line, without its line ending (`OK PUB 7`, `PING`).
    case line(String)
    /// A `MSG` frame of subscription `sid`; server flags (`liaison.delivery`, `liaison.ahead`)
    /// are already among the message's headers.
    case message(sid: String, Message)
    /// Several reply lines that belong together (`RCPT …` lines and their `OK RECEIPTS`), each
    /// without its line ending.
    case lines([String])
}

/// The timers a session runs; at most one of each kind is scheduled at a time.
enum SessionTimer: Hashable, Sendable {
    /// Closes a connection that does not authenticate in time.
    case auth
    /// Closes a connection that sends no command for the idle timeout (checked periodically).
    case idle
    /// Closes a connection whose reader stopped altogether (unwritable for the stall timeout).
    case stall
    /// Redeliveries, dead letters, requested replays and durable progress (every 100 ms).
    case ackTick
    /// An `AUTH` held back by the throttle is checked when this fires.
    case authDelay
    /// A replay page read that failed is tried again (per subscription id).
    case retryPage(subscriptionID: UInt64)
    /// Receipt ranges are closed and handed to the recorder (every `receipts.flushMilliseconds`).
    case receipts
}

/// Daemon-wide totals the machine bumps (kept by ``ServerCounters``).
enum SessionCounter: Sendable, Equatable {
    case published, duplicates, publishFailures, delivered, catchUps, redelivered, deadLettered, replayPages
    case subscriptions
    /// A `PUB` refused with `ERR 429` (publish rate); a `SUB` refused with `ERR 429` (subscription limit).
    case publishRateLimited, subscriptionLimitReached
}

/// What the channel handler must do for the state machine.
///
/// The machine never performs I/O; every effect is one of these, executed in order.
enum SessionAction: Equatable, Sendable {
    /// Write these frames (already in reply order), without flushing.
    case write([OutboundFrame])
    /// Flush what was written.
    case flush
    /// This event released more than the high-water mark while the socket still reported
    /// writable, so output paused on the machine's own budget: once the event's writes are
    /// flushed, report the socket's writability again through
    /// ``SessionStateMachine/writabilityRechecked(now:)``. The socket may never cross its own mark
    /// (frames are a little smaller than the budget counts them), and then no writability change
    /// would ever resume a paused subscription.
    case recheckWritability
    /// Stop (`false`) or resume (`true`) reading from the socket. Emitted only on change.
    case setReading(Bool)
    /// Flush, then close the channel.
    case close
    /// Close at once, dropping unwritten output (a reader that stalled, a dead peer).
    case abort
    /// Hand a publish to the group-commit writer; the outcome comes back as
    /// ``SessionStateMachine/published(_:bytes:_:)``.
    case submitPublish(ticket: UInt64, NewMessage)
    /// Ask the store; the answer comes back as ``SessionStateMachine/storeAnswered(_:now:)``.
    case store(StoreRequest)
    /// Start routing committed messages matching `pattern` to this session under `sid`.
    case route(sid: String, subscriptionID: UInt64, pattern: TopicPattern)
    /// Stop routing for a subscription.
    case unroute(subscriptionID: UInt64, pattern: TopicPattern)
    /// Free a durable consumer's name for other connections.
    case releaseDurable(account: String, name: String)
    /// Free one of the account's connection slots.
    case releaseAccount(String)
    /// Schedule a timer (replacing one of the same kind), in milliseconds.
    case startTimer(SessionTimer, milliseconds: Int64)
    /// Cancel a timer.
    case cancelTimer(SessionTimer)
    /// Record a security event (audit table).
    case securityEvent(SecurityEventKind, account: String?, reason: String)
    /// Bump a daemon-wide counter.
    case count(SessionCounter, Int)
    /// Count a command refused with `ERR <code>` (`liaison_subscriptions_refused_total{code}`).
    case refused(ServerCounters.Refusal.Command, code: Int)
    /// A log line worth an operator's attention.
    case log(LogLevel, String)
    /// Hand closed receipt ranges to the daemon's ``ReceiptRecorder``.
    case recordReceipts([ReceiptBatch])

    /// Log levels the machine uses.
    enum LogLevel: Sendable, Equatable { case debug, info, notice, warning, error }
}

/// A question for the store; each carries what is needed to match its answer.
enum StoreRequest: Equatable, Sendable {
    /// Check an `AUTH` token and load the account's permissions.
    case authenticate(account: String, token: String)
    /// A client certificate named an account (mutual TLS): load it if enabled.
    case certificate(account: String)
    /// Create or resume a durable consumer.
    case openConsumer(sid: String, ConsumerOpening)
    /// Read the next page of the log for a catching-up subscription.
    case readPage(sid: String, subscriptionID: UInt64, PageRequest)
    /// Read messages again for redelivery, with the delivery count each will carry.
    case redeliver(sid: String, subscriptionID: UInt64, seqs: [Int64], deliveries: [Int64: Int])
    /// Record durable consumers' progress (floors, delivery counts, settled seqs).
    case recordProgress([ConsumerProgress])
    /// A durable subscription ended: record its last progress (if any), then free its name.
    case releaseConsumer(ConsumerProgress?, account: String, name: String)
    /// Move messages to the dead letters and the ack floor past them, in one transaction.
    case deadLetter(sid: String, subscriptionID: UInt64, DeadLetterMove)
    /// Take the dead letters an admin asked to replay for a durable consumer.
    case takeReplays(sid: String, subscriptionID: UInt64, account: String, consumer: String)
    /// `RECEIPTS <seq>`: load the message's receipts; the machine decides who may see them.
    case receipts(ticket: OutboundQueue<OutboundFrame>.Ticket, seq: Int64)
}

/// The store's answer to a ``StoreRequest``.
enum StoreAnswer: Sendable {
    case authenticated(account: String, Result<(Account, Permissions)?, StoreError>)
    case certificate(account: String, Result<(Account, Permissions)?, StoreError>)
    case consumerOpened(sid: String, Result<ConsumerBinding, StoreError>)
    case page(sid: String, subscriptionID: UInt64, request: PageRequest, Result<LogPage, StoreError>)
    case redelivery(sid: String, subscriptionID: UInt64, deliveries: [Int64: Int], Result<[Message], StoreError>)
    case progressRecorded(Result<Void, StoreError>)
    case deadLettered(sid: String, subscriptionID: UInt64, move: DeadLetterMove, Result<Void, StoreError>)
    case replays(sid: String, subscriptionID: UInt64, Result<[Message], StoreError>)
    case receipts(ticket: OutboundQueue<OutboundFrame>.Ticket, seq: Int64, Result<ReceiptReport?, StoreError>)
}
