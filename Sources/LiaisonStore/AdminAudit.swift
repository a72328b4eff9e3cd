public import Postgres

/// One admin change to record in `security_events`, before it has an id, a time and an actor.
public struct AdminChange: Sendable, Equatable {
    /// What was changed, e.g. ``SecurityEventKind/accountDisabled``.
    public var kind: SecurityEventKind
    /// The account the change concerns (the one added, disabled, granted a rule...), if any.
    public var account: String?
    /// What changed, for people: `old -> new` where there was an old value, e.g.
    /// `clearance internal -> confidential`.
    public var reason: String

    /// Creates the change.
    public init(_ kind: SecurityEventKind, account: String?, reason: String) {
        self.kind = kind
        self.account = account
        self.reason = reason
    }
}

/// Records admin changes with who made them, in the same transaction as the change itself, so a
/// change is never committed without its event nor an event without its change (docs/AUDIT.md,
/// "Admin changes").
///
/// The one entry point for every `liaisonctl` command that changes accounts, tokens, rules,
/// clearances, consumers, dead letters or retention:
///
/// ```swift
/// try AdminAudit(actor: "alice").perform(on: connection) { connection in
///     try Accounts().setEnabled(false, name: "ohchr", on: connection)
///     return ((), [AdminChange(.accountDisabled, account: "ohchr", reason: "enabled -> disabled")])
/// }
/// ```
public struct AdminAudit: Sendable {
    /// The `security_events.remote` of changes made with `liaisonctl`.
    public static let remote = "liaisonctl"

    /// Who makes the changes: a `--actor` name or the operating-system user; never empty.
    public var actor: String

    /// Creates the recorder for one actor.
    public init(actor: String) {
        self.actor = actor
    }

    /// Runs `body` in a transaction and records the changes it returns before committing.
    ///
    /// When `connection` is already inside a transaction, `body` and the events join it (the
    /// caller commits). Nothing is recorded or kept when `body` throws.
    ///
    /// - Parameters:
    ///   - connection: The connection to change and record on.
    ///   - body: Makes the change; returns its result and the changes to record (one event each,
    ///     in this order; none for a change that turned out to change nothing).
    /// - Returns: `body`'s value, after the commit.
    /// - Throws: `body`'s error as a ``StoreError`` (``StoreError/wrap(_:)``); `.unavailable` or
    ///   `.database` when the events or the commit cannot be written.
    public func perform<T>(
        on connection: Connection,
        _ body: (Connection) throws -> (value: T, changes: [AdminChange])
    ) throws(StoreError) -> T {
        try storeCall {
            try connection.joiningTransaction { connection in
                let (value, changes) = try body(connection)
                try self.record(changes, on: connection)
                return value
            }
        }
    }

    /// Records changes on a connection that is inside the transaction making them.
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func record(_ changes: [AdminChange], on connection: Connection) throws(StoreError) {
        try SecurityEvents().record(
            changes.map {
                NewSecurityEvent(
                    kind: $0.kind,
                    account: $0.account,
                    remote: Self.remote,
                    reason: $0.reason,
                    actor: self.actor
                )
            },
            on: connection
        )
    }
}

extension Connection {
    /// Runs `body` in the transaction already open on this connection, or in a new one.
    ///
    /// Lets a repository method that needs a transaction (``Accounts/add(_:on:)``) also run inside
    /// an ``AdminAudit/perform(on:_:)`` that records the change with it. When `body` throws inside
    /// a joined transaction, the caller's transaction rolls back as the error passes through it.
    func joiningTransaction<T>(_ body: (Connection) throws -> T) throws -> T {
        if self.isInTransaction { return try body(self) }
        return try self.transaction(body)
    }
}
