public import Foundation
public import LiaisonCore

/// A member of the network as the store keeps it: an entity or a field office under one.
public struct Account: Sendable, Equatable, Codable {
    /// Login name, `[a-z0-9][a-z0-9_.-]{0,63}`, e.g. `ohchr` or `unhcr-mm-sittwe`.
    public var name: String
    /// `entity` (a UN entity) or `office` (a field office of one).
    public var kind: AccountKind
    /// The entity a field office belongs to; `nil` for entities.
    public var parent: String?
    /// ISO 3166-1 alpha-2 country code in lower case, for field offices (e.g. `mm`).
    public var country: String?
    /// `member` or `admin`.
    public var role: AccountRole
    /// A name for people, e.g. "UNHCR Sub-Office Sittwe".
    public var displayName: String
    /// A disabled account cannot authenticate.
    public var enabled: Bool
    /// When the account was created (UTC).
    public var createdAt: Date?

    /// Creates an account value.
    public init(
        name: String,
        kind: AccountKind,
        parent: String? = nil,
        country: String? = nil,
        role: AccountRole = .member,
        displayName: String = "",
        enabled: Bool = true,
        createdAt: Date? = nil
    ) {
        self.name = name
        self.kind = kind
        self.parent = parent
        self.country = country
        self.role = role
        self.displayName = displayName
        self.enabled = enabled
        self.createdAt = createdAt
    }

    /// Checks the fields a user can get wrong before they reach the database.
    ///
    /// - Throws: ``StoreError`` `.invalid` naming the bad field.
    public func validate() throws(StoreError) {
        guard Names.isValidAccount(Substring(self.name)) else {
            throw StoreError(.invalid, "account name '\(self.name)' must match [a-z0-9][a-z0-9_.-]{0,63}")
        }
        if self.kind == .office, self.parent == nil {
            throw StoreError(.invalid, "field office '\(self.name)' needs a parent entity")
        }
        if let country = self.country,
            country.utf8.count != 2 || !country.utf8.allSatisfy({ $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") })
        {
            throw StoreError(.invalid, "country '\(country)' must be an ISO 3166-1 alpha-2 code in lower case")
        }
    }
}

extension AccountKind: Codable {}
extension AccountRole: Codable {}
