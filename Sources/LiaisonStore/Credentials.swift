import Crypto
public import Foundation
public import Postgres

/// Issues, checks and revokes the bearer tokens accounts authenticate with.
///
/// A token is `lia_` followed by 43 base64url characters: 256 bits from the system's
/// cryptographic generator. Only its SHA-256 is stored, so a copy of the database does not
/// yield working tokens.
public struct Credentials: Sendable {
    /// A credential row as admins see it (never the token).
    public struct Info: Sendable, Equatable {
        /// Row id, used to revoke.
        public var id: Int64
        /// The account the token belongs to.
        public var account: String
        /// Free text, e.g. "demo" or "field laptop".
        public var label: String
        /// When it was issued.
        public var createdAt: Date
        /// When it stops working, if ever.
        public var expiresAt: Date?
        /// When it was revoked, if it was.
        public var revokedAt: Date?
    }

    /// Creates the repository.
    public init() {}

    /// Makes a new random token (not stored).
    ///
    /// - Returns: `lia_` + base64url of 32 random bytes, 47 characters.
    public static func generateToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let base64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "lia_" + base64
    }

    /// Compares two byte strings in time that depends only on their lengths.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// SHA-256 of a token's UTF-8 bytes, as stored in `credentials.token_hash`.
    public static func hash(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }

    /// Issues a token for an account and stores its hash.
    ///
    /// - Parameters:
    ///   - account: An existing account name.
    ///   - label: Free text shown in listings.
    ///   - expiresAt: When the token stops working; `nil` for never.
    /// - Returns: The token. It is not stored and cannot be shown again.
    /// - Throws: ``StoreError`` `.notFound` if the account does not exist.
    public func issue(
        for account: String,
        label: String = "",
        expiresAt: Date? = nil,
        on connection: Connection
    ) throws(StoreError) -> String {
        let token = Self.generateToken()
        let exists = try storeCall {
            try connection.query(
                """
                INSERT INTO credentials (account, token_hash, label, expires_at)
                SELECT name, $2, $3, $4 FROM accounts WHERE name = $1
                """,
                [account.postgresBind, Self.hash(token).postgresBind, label.postgresBind, expiresAt.postgresBind]
            ).affectedRows
        }
        if exists == 0 { throw StoreError(.notFound, "no account named '\(account)'") }
        return token
    }

    /// Checks a token presented by `AUTH`.
    ///
    /// - Returns: The account if the token belongs to it, is neither revoked nor expired, and the
    ///   account is enabled; otherwise `nil` (the caller answers `ERR 401` without saying which).
    /// - Throws: ``StoreError`` `.unavailable` when the database cannot be asked.
    public func authenticate(account: String, token: String, on connection: Connection) throws(StoreError) -> Account? {
        // The account's live hashes are compared in constant time here, not matched by an index
        // lookup on the presented hash, so response time says nothing about how close a guess was.
        let presented = Self.hash(token)
        let matched = try storeCall {
            let result = try connection.query(
                """
                SELECT c.token_hash FROM credentials c JOIN accounts a ON a.name = c.account
                WHERE c.account = $1 AND a.enabled
                  AND c.revoked_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > now())
                """,
                [account.postgresBind]
            )
            var matched = false
            for row in 0..<result.rowCount {
                let stored = try result.decode([UInt8].self, row: row, column: 0)
                matched = Self.constantTimeEqual(stored, presented) || matched
            }
            return matched
        }
        guard matched else { return nil }
        return try Accounts().find(account, on: connection)
    }

    /// Revokes one token (given the token itself) or every token of an account.
    ///
    /// - Parameters:
    ///   - account: The account.
    ///   - token: The token to revoke; `nil` revokes all of the account's live tokens.
    /// - Returns: How many tokens were revoked.
    /// - Throws: ``StoreError`` `.notFound` when nothing matched.
    @discardableResult
    public func revoke(account: String, token: String?, on connection: Connection) throws(StoreError) -> Int {
        let count = try storeCall {
            try connection.query(
                """
                UPDATE credentials SET revoked_at = now()
                WHERE account = $1 AND revoked_at IS NULL AND ($2::bytea IS NULL OR token_hash = $2)
                """,
                [account.postgresBind, token.map(Self.hash).postgresBind]
            ).affectedRows
        }
        if count == 0 { throw StoreError(.notFound, "no live token matched for account '\(account)'") }
        return count
    }

    /// The credentials of an account, newest first.
    ///
    /// - Throws: ``StoreError`` `.unavailable` or `.database`.
    public func list(account: String, on connection: Connection) throws(StoreError) -> [Info] {
        try storeCall {
            let r = try connection.query(
                """
                SELECT id, account, label, created_at, expires_at, revoked_at FROM credentials
                WHERE account = $1 ORDER BY created_at DESC, id DESC
                """,
                [account.postgresBind]
            )
            return try (0..<r.rowCount).map { row in
                Info(
                    id: try r.decode(Int64.self, row: row, column: 0),
                    account: try r.decode(String.self, row: row, column: 1),
                    label: try r.decode(String.self, row: row, column: 2),
                    createdAt: try r.decode(Date.self, row: row, column: 3),
                    expiresAt: try r.decode(Date?.self, row: row, column: 4),
                    revokedAt: try r.decode(Date?.self, row: row, column: 5)
                )
            }
        }
    }
}
