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
    /// The most sensitive message class the account may read or publish (`accounts.clearance`).
    ///
    /// Defaults to ``Classification/internal``, and to ``Classification/strictlyConfidential`` for admins.
    public var clearance: Classification
    /// When the account was created (UTC).
    public var createdAt: Date?

    /// Creates an account value.
    ///
    /// - Parameter clearance: `nil` gives ``defaultClearance(for:)`` of `role`.
    public init(
        name: String,
        kind: AccountKind,
        parent: String? = nil,
        country: String? = nil,
        role: AccountRole = .member,
        displayName: String = "",
        enabled: Bool = true,
        clearance: Classification? = nil,
        createdAt: Date? = nil
    ) {
        self.name = name
        self.kind = kind
        self.parent = parent
        self.country = country
        self.role = role
        self.displayName = displayName
        self.enabled = enabled
        self.clearance = clearance ?? Self.defaultClearance(for: role)
        self.createdAt = createdAt
    }

    /// The clearance an account of `role` gets when none is given: admins audit everything.
    ///
    /// - Parameter role: The account's role.
    /// - Returns: ``Classification/strictlyConfidential`` for admins, ``Classification/internal`` otherwise.
    public static func defaultClearance(for role: AccountRole) -> Classification {
        role == .admin ? .strictlyConfidential : .internal
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
extension Classification: Codable {}

extension Account {
    private enum CodingKeys: String, CodingKey {
        case name, kind, parent, country, role, displayName, enabled, clearance, createdAt
    }

    /// Decodes an account; a missing `clearance` (data written before schema version 5) gets the role's default.
    ///
    /// - Throws: `DecodingError` when a required field is missing or has the wrong type.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let role = try container.decode(AccountRole.self, forKey: .role)
        self.init(
            name: try container.decode(String.self, forKey: .name),
            kind: try container.decode(AccountKind.self, forKey: .kind),
            parent: try container.decodeIfPresent(String.self, forKey: .parent),
            country: try container.decodeIfPresent(String.self, forKey: .country),
            role: role,
            displayName: try container.decode(String.self, forKey: .displayName),
            enabled: try container.decode(Bool.self, forKey: .enabled),
            clearance: try container.decodeIfPresent(Classification.self, forKey: .clearance),
            createdAt: try container.decodeIfPresent(Date.self, forKey: .createdAt)
        )
    }
}
