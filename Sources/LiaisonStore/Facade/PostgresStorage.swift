import Foundation
public import LiaisonCore
import Postgres
import Synchronization

/// ``LiaisonStorage`` over PostgreSQL: libpq threads of its own, and a deadline on every call.
///
/// Three executors, each for a reason (docs/ARCHITECTURE.md, "Storage"):
/// - the **writer** workers append batches: one connection per batch the writer keeps in flight,
///   and a batch's token is always looked up on the connection that sent it;
/// - the **consumer** worker opens durable consumers and records their progress, one job at a
///   time, so a consumer's last progress from a closed connection is always recorded before the
///   same consumer is bound again (its delivery counts survive a fast reconnect);
/// - the **read** pool serves authentication, replay pages, redelivery reads and audit writes.
public final class PostgresStorage: LiaisonStorage {
    /// One per batch in flight; a batch runs on `writers[token % count]`.
    private let writers: [PostgresWorker]
    /// With more than one writer: the order in which batches take the append lock.
    private let turns = AppendTurns()
    let consumers: PostgresWorker
    private let reads: PostgresPool
    /// The log sealer's thread: its session holds the seal lock (docs/AUDIT.md); it connects at
    /// the sealer's first call, so a daemon with `audit.enabled` false never opens it.
    private let sealer: PostgresWorker
    /// The log follower's reads (docs/ARCHITECTURE.md, invariant 13), off the read pool so a
    /// burst of replays never delays live fan-out of other daemons' messages.
    let follower: PostgresWorker
    /// Waits for `liaison_append`'s notifications; blocked in `poll()` most of the time.
    let listener: PostgresWorker
    /// The backend PID of the listener's connection that ran `LISTEN` (0: none yet).
    let listening = Mutex<Int32>(0)
    /// Durable consumers whose lease this daemon holds on the consumer thread's connection.
    let leases = Mutex(ConsumerLeases())
    /// The longest any call other than ``append(_:token:dedupeWindowSeconds:deadline:)`` waits, in milliseconds.
    public let callTimeoutMilliseconds: Int64
    /// Counts every thread's connection attempts (``connectionStatistics``).
    let connects: ConnectionAttempts

    /// Starts the storage threads; connections open lazily, at first use, and again after a failure.
    ///
    /// - Parameters:
    ///   - databaseURL: libpq connection string or URI.
    ///   - readPoolSize: Threads (and connections) of the read pool, at least 1.
    ///   - writerConnections: Threads (and connections) that append batches, at least 1: as many
    ///     as the writer keeps batches in flight. Never fewer: consecutive tokens go to different
    ///     threads, and a batch queued on a thread behind a later token (which waits for its
    ///     turn) would wait until its deadline.
    ///   - timeouts: Connect, statement and call deadlines, and TCP keepalive settings.
    public init(
        databaseURL: String,
        readPoolSize: Int,
        writerConnections: Int = 1,
        timeouts: DatabaseTimeouts = .init()
    ) {
        let options = timeouts.connectionOptions
        let connects = ConnectionAttempts()
        self.connects = connects
        let connect = connects.counting { try Connection(databaseURL, options: options) }
        self.writers = (1...max(1, writerConnections)).map {
            PostgresWorker(name: "liaison-writer-\($0)", connect: connect)
        }
        self.consumers = PostgresWorker(name: "liaison-consumers", connect: connect)
        self.reads = PostgresPool(name: "liaison-read", size: max(1, readPoolSize), connect: connect)
        self.sealer = PostgresWorker(name: "liaison-sealer", connect: connect)
        self.follower = PostgresWorker(name: "liaison-follower", connect: connect)
        self.listener = PostgresWorker(name: "liaison-listener", connect: connect)
        self.callTimeoutMilliseconds = max(1, timeouts.callMilliseconds)
    }

    /// Finishes queued jobs, closes the connections and ends the threads. Blocks; idempotent.
    public func shutdown() {
        self.listener.shutdown()
        self.follower.shutdown()
        self.sealer.shutdown()
        self.reads.shutdown()
        self.consumers.shutdown()
        for writer in self.writers { writer.shutdown() }
    }

    /// The writer thread of the batch under `token`: consecutive tokens take turns.
    private func writer(_ token: Int64) -> PostgresWorker {
        self.writers[Int(token.magnitude % UInt64(self.writers.count))]
    }

    var deadline: ContinuousClock.Instant {
        .now + .milliseconds(self.callTimeoutMilliseconds)
    }

    /// Runs a job on the read pool with the storage call deadline.
    func read<T: Sendable>(
        _ what: String,
        _ body: @escaping @Sendable (Connection) throws -> T
    ) async throws
        -> T
    {
        try await DeadlineCall.run(what, on: self.reads, deadline: self.deadline, body)
    }

    /// Runs a job on the sealer's thread with the storage call deadline.
    func onSealer<T: Sendable>(
        _ what: String,
        _ body: @escaping @Sendable (Connection) throws -> T
    ) async throws -> T {
        try await DeadlineCall.run(what, on: self.sealer, deadline: self.deadline, body)
    }

    public func append(
        _ batch: [NewMessage],
        token: Int64,
        dedupeWindowSeconds: Int64,
        deadline: ContinuousClock.Instant
    ) async throws -> MessageLog.Appended {
        guard !batch.isEmpty else { throw StoreError(.invalid, "empty batch") }
        guard self.writers.count > 1 else {
            // One connection: one statement, its own transaction, one round trip.
            return try await DeadlineCall.run("append", on: self.writer(token), deadline: deadline) { connection in
                try MessageLog().append(batch, dedupeWindowSeconds: dedupeWindowSeconds, token: token, on: connection)!
            }
        }
        let turns = self.turns
        // However the call ends (even by its deadline, with the job never run), the next batch's
        // turn must come.
        defer { turns.finish(token) }
        return try await DeadlineCall.run("append", on: self.writer(token), deadline: deadline) { connection in
            guard turns.waitForTurn(token, until: deadline) else {
                throw StoreError(
                    .unavailable,
                    "not sent: the batch before it did not reach the database in time",
                    underlying: PostgresError(.connectionFailed, "not sent")
                )
            }
            // In an explicit transaction, so the append lock is held (and the next batch may
            // queue behind it) while this one's commit is still to come.
            do {
                try connection.execute(script: "BEGIN")
            } catch {
                turns.finish(token)
                throw error
            }
            let appended: MessageLog.Appended
            do {
                appended = try MessageLog().append(
                    batch,
                    dedupeWindowSeconds: dedupeWindowSeconds,
                    token: token,
                    on: connection
                )!
            } catch {
                turns.finish(token)
                try? connection.execute(script: "ROLLBACK")
                throw error
            }
            turns.finish(token)
            try connection.execute(script: "COMMIT")
            return appended
        }
    }

    public func resolveBatch(token: Int64, deadline: ContinuousClock.Instant) async throws -> MessageLog.Appended? {
        // On the thread that sent the batch: behind the append it resolves, never beside it.
        try await DeadlineCall.run("resolve batch", on: self.writer(token), deadline: deadline) { connection in
            let log = MessageLog()
            let found = try log.resolveBatch(token: token, on: connection)
            try log.pruneBatchTokens(olderThanSeconds: 86_400, on: connection)
            return found
        }
    }

    public func authenticate(account: String, token: String) async throws -> (Account, Permissions)? {
        try await self.read("authenticate") { connection -> AuthenticatedAccount? in
            guard let found = try Credentials().authenticate(account: account, token: token, on: connection),
                let permissions = try AccessRules().permissions(account: account, on: connection)
            else { return nil }
            return AuthenticatedAccount(account: found, permissions: permissions)
        }.map { ($0.account, $0.permissions) }
    }

    public func certificateAccount(_ name: String) async throws -> (Account, Permissions)? {
        try await self.read("certificate account") { connection -> AuthenticatedAccount? in
            guard let found = try Accounts().find(name, on: connection), found.enabled,
                let permissions = try AccessRules().permissions(account: name, on: connection)
            else { return nil }
            return AuthenticatedAccount(account: found, permissions: permissions)
        }.map { ($0.account, $0.permissions) }
    }

    public func openConsumer(_ opening: ConsumerOpening) async throws -> ConsumerBinding {
        try await DeadlineCall.run("open consumer", on: self.consumers, deadline: self.deadline) { connection in
            // The lease first: one connection across every daemon on this database.
            guard try self.takeLease(account: opening.account, name: opening.name, on: connection) else {
                throw StoreError(.conflict, "durable \(opening.name) is in use by another connection")
            }
            do {
                let store = Consumers()
                let info = try store.open(
                    account: opening.account,
                    name: opening.name,
                    settings: opening.settings,
                    start: opening.start,
                    reset: opening.reset,
                    on: connection
                )
                let pending =
                    info.settings.ackMode == .explicit
                    ? try store.pending(account: opening.account, name: opening.name, on: connection) : [:]
                return ConsumerBinding(info: info, pending: pending)
            } catch {
                try? self.freeLease(account: opening.account, name: opening.name, on: connection)
                throw error
            }
        }
    }

    public func readPage(_ request: PageRequest) async throws -> LogPage {
        try await self.read("read page") { connection in
            let log = MessageLog()
            let start = try request.startTime.map { try log.seqBefore(time: $0, on: connection) } ?? request.after
            let flash = try log.flash(
                after: max(start, request.flashAfter),
                matching: request.pattern,
                limit: request.flashLimit,
                maxClassification: request.clearance,
                on: connection
            )
            let page = try log.read(
                after: start,
                matching: request.pattern,
                limit: request.limit,
                maxClassification: request.clearance,
                on: connection
            )
            return LogPage(messages: page, flash: flash)
        }
    }

    public func messages(seqs: [Int64]) async throws -> [Message] {
        try await self.read("fetch") { connection in try MessageLog().fetch(seqs: seqs, on: connection) }
    }

    public func recordProgress(_ progress: [ConsumerProgress]) async throws {
        try await DeadlineCall.run("record progress", on: self.consumers, deadline: self.deadline) { connection in
            try Consumers().record(progress, on: connection)
        }
    }

    public func deadLetter(_ move: DeadLetterMove) async throws {
        try await DeadlineCall.run("dead letter", on: self.consumers, deadline: self.deadline) { connection in
            try Consumers().move(move, on: connection)
        }
    }

    public func takeReplays(account: String, consumer: String) async throws -> [Message] {
        try await DeadlineCall.run("take replays", on: self.consumers, deadline: self.deadline) { connection in
            let seqs = try Consumers().takeReplays(account: account, name: consumer, on: connection)
            return try MessageLog().fetch(seqs: seqs, on: connection)
        }
    }

    public func recordSecurityEvents(_ events: [NewSecurityEvent]) async throws {
        try await self.read("record security events") { connection in
            try SecurityEvents().record(events, on: connection)
        }
    }

    public func accessVersion() async throws -> Int64 {
        try await self.read("access version") { connection in try AccessRules().version(on: connection) }
    }

    public func permissions(accounts: [String]) async throws -> [String: Permissions?] {
        try await self.read("permissions") { connection in
            let rules = AccessRules()
            var fresh: [String: Permissions?] = [:]
            for account in accounts {
                // A disabled account keeps its rules on paper but may do nothing on live connections.
                let enabled = try Accounts().find(account, on: connection)?.enabled ?? false
                fresh[account] = enabled ? try rules.permissions(account: account, on: connection) : nil
            }
            return fresh
        }
    }
}

/// An account with its permissions, as one `Sendable` value for crossing threads.
private struct AuthenticatedAccount: Sendable {
    var account: Account
    var permissions: Permissions
}
