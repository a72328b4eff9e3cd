public import LiaisonCore
public import Postgres

/// Reads and changes the access rules (`access_rules`) that decide what each account may publish and read.
///
/// Stateless: every call takes the connection it runs on. Every change moves the counter
/// ``version(on:)`` reads (a trigger maintains it), which is how a running daemon notices.
public struct AccessRules: Sendable {
    /// Creates the repository.
    public init() {}

    /// The rules an account gets when it is created by `account add`, or `account import` when new.
    ///
    /// - role admin: allow pub `>`, allow sub `>`;
    /// - entity `<name>`: allow pub `hq.<name>.>` and `net.>`; allow sub `hq.>`, `net.>` and `field.>`;
    /// - office with country `cc`: allow pub `field.<cc>.>`; allow sub `field.<cc>.>`, `hq.>` and `net.>`;
    /// - office without a country: allow sub `hq.>` and `net.>` only.
    ///
    /// Migration 0005 inserts the same rules for the accounts that existed before it.
    ///
    /// - Parameter account: The new account.
    /// - Returns: Allow rules only; an account name or country that makes an invalid pattern is skipped.
    public static func defaults(for account: Account) -> [AccessRule] {
        var specs: [(AccessAction, String)]
        if account.role == .admin {
            specs = [(.publish, ">"), (.subscribe, ">")]
        } else if account.kind == .entity {
            specs = [
                (.publish, "hq.\(account.name).>"), (.publish, "net.>"),
                (.subscribe, "hq.>"), (.subscribe, "net.>"), (.subscribe, "field.>"),
            ]
        } else if let country = account.country {
            specs = [
                (.publish, "field.\(country).>"), (.subscribe, "field.\(country).>"),
                (.subscribe, "hq.>"), (.subscribe, "net.>"),
            ]
        } else {
            specs = [(.subscribe, "hq.>"), (.subscribe, "net.>")]
        }
        return specs.compactMap { action, text in
            // Account names may hold '.', which splits a token; such a name still gives a valid pattern.
            guard let pattern = try? TopicPattern(text) else { return nil }
            return AccessRule(action: action, effect: .allow, pattern: pattern)
        }
    }

    /// Adds a rule to an account; adding one it already has changes nothing.
    ///
    /// - Parameters:
    ///   - account: An existing account name.
    ///   - rule: The rule.
    ///   - connection: The connection to write on.
    /// - Throws: ``StoreError`` `.notFound` when the account does not exist; `.unavailable` or `.database`.
    public func grant(account: String, rule: AccessRule, on connection: Connection) throws(StoreError) {
        do {
            try connection.query(
                """
                INSERT INTO access_rules (account, action, effect, pattern) VALUES ($1, $2, $3, $4)
                ON CONFLICT DO NOTHING
                """,
                Self.binds(account: account, rule: rule)
            )
        } catch {
            let wrapped = StoreError.wrap(error)
            // 23503: foreign key violation, the account does not exist.
            if wrapped.underlying?.sqlState == "23503" {
                throw StoreError(.notFound, "no account named '\(account)'", underlying: wrapped.underlying)
            }
            throw wrapped
        }
    }

    /// Removes a rule from an account.
    ///
    /// - Parameters:
    ///   - account: The account name.
    ///   - rule: The rule, matched exactly (action, effect and pattern text).
    ///   - connection: The connection to write on.
    /// - Throws: ``StoreError`` `.notFound` when the account has no such rule; `.unavailable` or `.database`.
    public func revoke(account: String, rule: AccessRule, on connection: Connection) throws(StoreError) {
        let result = try storeCall {
            try connection.query(
                "DELETE FROM access_rules WHERE account = $1 AND action = $2 AND effect = $3 AND pattern = $4",
                Self.binds(account: account, rule: rule)
            )
        }
        if result.affectedRows == 0 {
            throw StoreError(.notFound, "account '\(account)' has no rule '\(rule)'")
        }
    }

    /// The rules of one account, publish before subscribe, allow before deny, then by pattern.
    ///
    /// - Parameters:
    ///   - account: The account name.
    ///   - connection: The connection to read on.
    /// - Returns: The rules; empty for an unknown account or one without rules.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func rules(account: String, on connection: Connection) throws(StoreError) -> [AccessRule] {
        try self.list(account: account, on: connection).map(\.rule)
    }

    /// The rules of one account or of all, ordered by account, action, effect and pattern.
    ///
    /// - Parameters:
    ///   - account: Only this account's rules; `nil` for every account.
    ///   - connection: The connection to read on.
    /// - Returns: Pairs of account name and rule.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func list(
        account: String?,
        on connection: Connection
    ) throws(StoreError) -> [(account: String, rule: AccessRule)] {
        try storeCall {
            let result = try connection.query(
                """
                SELECT account, action, effect, pattern FROM access_rules
                WHERE ($1::text IS NULL OR account = $1)
                ORDER BY account, action, effect, pattern COLLATE "C"
                """,
                [account.postgresBind]
            )
            return try (0..<result.rowCount).map { row in
                (
                    account: try result.decode(String.self, row: row, column: 0),
                    rule: try Self.decodeRule(result, row: row, firstColumn: 1)
                )
            }
        }
    }

    /// The account's permissions: its rules, its clearance and its role, in one round trip.
    ///
    /// A disabled account still gets its permissions here; refusing it is authentication's job.
    ///
    /// - Parameters:
    ///   - account: The account name.
    ///   - connection: The connection to read on.
    /// - Returns: The permissions, or `nil` when the account does not exist.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func permissions(account: String, on connection: Connection) throws(StoreError) -> Permissions? {
        try storeCall {
            let result = try connection.query(
                """
                SELECT a.clearance, r.action, r.effect, r.pattern, a.role
                FROM accounts a LEFT JOIN access_rules r ON r.account = a.name
                WHERE a.name = $1
                ORDER BY r.action, r.effect, r.pattern COLLATE "C"
                """,
                [account.postgresBind]
            )
            guard result.rowCount > 0 else { return nil }
            let clearanceText = try result.decode(String.self, row: 0, column: 0)
            var rules: [AccessRule] = []
            for row in 0..<result.rowCount where try result.decode(String?.self, row: row, column: 1) != nil {
                rules.append(try Self.decodeRule(result, row: row, firstColumn: 1))
            }
            let role = AccountRole(rawValue: try result.decode(String.self, row: 0, column: 4)) ?? .member
            return Permissions(rules: rules, clearance: Classification(rawValue: clearanceText) ?? .public, role: role)
        }
    }

    /// A counter that moves whenever any rule, clearance, role or enabled flag changes, or an account is added.
    ///
    /// Poll it (cheap: one row) and reload permissions only when it differs from the last value seen.
    ///
    /// - Parameter connection: The connection to read on.
    /// - Returns: The current value of `access_version.version`.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func version(on connection: Connection) throws(StoreError) -> Int64 {
        try storeCall {
            try connection.query("SELECT version FROM access_version").decode(Int64.self, row: 0, column: 0)
        }
    }

    /// Inserts the ``defaults(for:)`` of an account, keeping rules it already has.
    ///
    /// - Parameters:
    ///   - account: An account that exists on `connection` (usually just inserted in the same transaction).
    ///   - connection: The connection to write on.
    /// - Throws: Any database error, unwrapped (callers run it inside `storeCall`).
    static func insertDefaults(for account: Account, on connection: Connection) throws {
        let rules = Self.defaults(for: account)
        guard !rules.isEmpty else { return }
        try connection.query(
            """
            INSERT INTO access_rules (account, action, effect, pattern)
            SELECT $1, u.action, u.effect, u.pattern FROM unnest($2::text[], $3::text[], $4::text[]) AS u (action, effect, pattern)
            ON CONFLICT DO NOTHING
            """,
            [
                account.name.postgresBind, rules.map(\.action.rawValue).postgresBind,
                rules.map(\.effect.rawValue).postgresBind, rules.map(\.pattern.value).postgresBind,
            ]
        )
    }

    private static func binds(account: String, rule: AccessRule) -> [PostgresBind] {
        [
            account.postgresBind, rule.action.rawValue.postgresBind, rule.effect.rawValue.postgresBind,
            rule.pattern.value.postgresBind,
        ]
    }

    private static func decodeRule(_ result: QueryResult, row: Int, firstColumn column: Int) throws -> AccessRule {
        let actionText = try result.decode(String.self, row: row, column: column)
        let effectText = try result.decode(String.self, row: row, column: column + 1)
        guard let action = AccessAction(rawValue: actionText), let effect = AccessEffect(rawValue: effectText) else {
            throw StoreError(.database, "access_rules has an unknown action '\(actionText)' or effect '\(effectText)'")
        }
        return AccessRule(
            action: action,
            effect: effect,
            pattern: try TopicPattern(try result.decode(String.self, row: row, column: column + 2))
        )
    }
}
