import LiaisonStore

/// What `account disable` and `account enable` share: the change and its audit event.
enum AccountToggle {
    /// Sets whether `name` may authenticate and records `kind` with the old and new state, in one
    /// transaction (an account already in that state gets an event saying so: the operator asked).
    ///
    /// - Throws: ``StoreError`` `.notFound` when there is no such account; a ``CLIFailure`` when
    ///   the database cannot be reached.
    static func set(
        enabled: Bool,
        name: String,
        kind: SecurityEventKind,
        database: DatabaseOptions,
        actor: ActorOption
    ) async throws {
        let audit = actor.audit
        try await database.run { connection in
            try audit.perform(on: connection) { connection in
                guard let before = try Accounts().find(name, on: connection) else {
                    throw StoreError(.notFound, "no account named '\(name)'")
                }
                try Accounts().setEnabled(enabled, name: name, on: connection)
                let reason = "\(Self.state(before.enabled)) -> \(Self.state(enabled))"
                return ((), [AdminChange(kind, account: name, reason: reason)])
            }
        }
    }

    private static func state(_ enabled: Bool) -> String {
        enabled ? "enabled" : "disabled"
    }
}
