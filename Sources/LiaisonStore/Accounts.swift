import Foundation
public import LiaisonCore
public import Postgres

/// Reads and changes accounts. Stateless: every call takes the connection it runs on.
public struct Accounts: Sendable {
    /// Creates the repository.
    public init() {}

    private static let columns = "name, kind, parent, country, role, display_name, enabled, created_at, clearance"

    /// Adds an account with its clearance and the default access rules of ``AccessRules/defaults(for:)``.
    ///
    /// In one transaction: its own, or the caller's when one is open (``AdminAudit/perform(on:_:)``).
    ///
    /// - Throws: ``StoreError`` `.invalid` for a bad field, `.conflict` if the name exists,
    ///   `.notFound` if the parent does not exist, `.unavailable` when the database is down.
    public func add(_ account: Account, on connection: Connection) throws(StoreError) {
        try account.validate()
        if let parent = account.parent, try self.find(parent, on: connection) == nil {
            throw StoreError(.notFound, "parent account '\(parent)' does not exist")
        }
        do {
            try connection.joiningTransaction { connection in
                try connection.query(
                    """
                    INSERT INTO accounts (name, kind, parent, country, role, display_name, enabled, clearance)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    """,
                    Self.binds(account)
                )
                try AccessRules.insertDefaults(for: account, on: connection)
            }
        } catch {
            let wrapped = StoreError.wrap(error)
            if wrapped.code == .conflict { throw StoreError(.conflict, "account '\(account.name)' already exists") }
            throw wrapped
        }
    }

    /// Adds or updates accounts in one transaction, parents before their offices.
    ///
    /// The transaction is the caller's when one is open (``AdminAudit/perform(on:_:)``).
    ///
    /// New accounts get their clearance and the default access rules (``AccessRules/defaults(for:)``);
    /// existing ones keep both, so an import never undoes `liaisonctl acl` or `account clearance`.
    ///
    /// - Returns: How many accounts were inserted and how many updated.
    /// - Throws: ``StoreError`` `.invalid` or `.notFound` for the first bad account (nothing is kept).
    public func importAll(
        _ accounts: [Account],
        on connection: Connection
    ) throws(StoreError) -> (inserted: Int, updated: Int) {
        for account in accounts { try account.validate() }
        // Entities first so every office finds its parent, whatever the file's order.
        let ordered = accounts.filter { $0.parent == nil } + accounts.filter { $0.parent != nil }
        return try storeCall {
            try connection.joiningTransaction { connection in
                var inserted = 0
                var updated = 0
                for account in ordered {
                    let result = try connection.query(
                        """
                        INSERT INTO accounts (name, kind, parent, country, role, display_name, enabled, clearance)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                        ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, parent = excluded.parent,
                            country = excluded.country, role = excluded.role, display_name = excluded.display_name
                        RETURNING (xmax = 0)
                        """,
                        Self.binds(account)
                    )
                    if try result.decode(Bool.self, row: 0, column: 0) {
                        try AccessRules.insertDefaults(for: account, on: connection)
                        inserted += 1
                    } else {
                        updated += 1
                    }
                }
                return (inserted, updated)
            }
        }
    }

    /// Looks an account up by name.
    ///
    /// - Returns: The account, or `nil` if there is none.
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func find(_ name: String, on connection: Connection) throws(StoreError) -> Account? {
        try storeCall {
            let result = try connection.query(
                "SELECT \(Self.columns) FROM accounts WHERE name = $1",
                [name.postgresBind]
            )
            return result.rowCount == 0 ? nil : try Self.decode(result, row: 0)
        }
    }

    /// Every account, entities first, then by name.
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func list(on connection: Connection) throws(StoreError) -> [Account] {
        try storeCall {
            let result = try connection.query(
                "SELECT \(Self.columns) FROM accounts ORDER BY coalesce(parent, name), parent NULLS FIRST, name"
            )
            return try (0..<result.rowCount).map { try Self.decode(result, row: $0) }
        }
    }

    /// Enables or disables an account. A disabled account fails `AUTH`; its history stays.
    ///
    /// - Throws: ``StoreError`` `.notFound` if there is no such account.
    public func setEnabled(_ enabled: Bool, name: String, on connection: Connection) throws(StoreError) {
        let result = try storeCall {
            try connection.query(
                "UPDATE accounts SET enabled = $2 WHERE name = $1",
                [name.postgresBind, enabled.postgresBind]
            )
        }
        if result.affectedRows == 0 { throw StoreError(.notFound, "no account named '\(name)'") }
    }

    /// Sets an account's clearance: the most sensitive message class it may read or publish.
    ///
    /// Live connections see the change within the daemon's poll interval (it moves ``AccessRules/version(on:)``).
    ///
    /// - Parameters:
    ///   - clearance: The new clearance.
    ///   - name: The account name.
    ///   - connection: The connection to write on.
    /// - Returns: The clearance the account had before.
    /// - Throws: ``StoreError`` `.notFound` if there is no such account.
    @discardableResult
    public func setClearance(
        _ clearance: Classification,
        name: String,
        on connection: Connection
    ) throws(StoreError) -> Classification {
        let result = try storeCall {
            try connection.query(
                """
                UPDATE accounts a SET clearance = $2 FROM accounts old
                WHERE a.name = $1 AND old.name = a.name RETURNING old.clearance
                """,
                [name.postgresBind, clearance.rawValue.postgresBind]
            )
        }
        guard result.rowCount > 0 else { throw StoreError(.notFound, "no account named '\(name)'") }
        let previous = try storeCall { try result.decode(String.self, row: 0, column: 0) }
        return Classification(rawValue: previous) ?? clearance
    }

    private static func binds(_ account: Account) -> [PostgresBind] {
        [
            account.name.postgresBind, account.kind.rawValue.postgresBind, account.parent.postgresBind,
            account.country.postgresBind, account.role.rawValue.postgresBind, account.displayName.postgresBind,
            account.enabled.postgresBind, account.clearance.rawValue.postgresBind,
        ]
    }

    private static func decode(_ result: QueryResult, row: Int) throws -> Account {
        let kind = try result.decode(String.self, row: row, column: 1)
        let role = try result.decode(String.self, row: row, column: 4)
        let clearance = try result.decode(String.self, row: row, column: 8)
        return Account(
            name: try result.decode(String.self, row: row, column: 0),
            kind: AccountKind(rawValue: kind) ?? .entity,
            parent: try result.decode(String?.self, row: row, column: 2),
            country: try result.decode(String?.self, row: row, column: 3),
            role: AccountRole(rawValue: role) ?? .member,
            displayName: try result.decode(String.self, row: row, column: 5),
            enabled: try result.decode(Bool.self, row: row, column: 6),
            clearance: Classification(rawValue: clearance) ?? .internal,
            createdAt: try result.decode(Date.self, row: row, column: 7)
        )
    }
}
