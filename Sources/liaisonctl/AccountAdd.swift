import ArgumentParser
import LiaisonCore
import LiaisonStore

/// `liaisonctl account add`.
struct AccountAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an entity or a field office.",
        discussion: "The account gets the default access rules of docs/SECURITY.md; change them with `liaisonctl acl`."
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var actor: ActorOption

    @Argument(help: "Account name: [a-z0-9][a-z0-9_.-]{0,63}, e.g. ohchr or unhcr-mm-sittwe.")
    var name: String

    @Option(help: "entity (a UN entity) or office (a field office of one).")
    var kind: AccountKind

    @Option(help: ArgumentHelp("The entity a field office belongs to (required for offices).", valueName: "entity"))
    var parent: String?

    @Option(help: ArgumentHelp("ISO 3166-1 alpha-2 country code in lower case, e.g. mm.", valueName: "cc"))
    var country: String?

    @Option(help: "member or admin.")
    var role: AccountRole = .member

    @Option(
        help: ArgumentHelp(
            "public, internal, confidential or strictly-confidential (default: internal; strictly-confidential for admins).",
            valueName: "level"
        )
    )
    var clearance: Classification?

    @Option(help: ArgumentHelp("A name for people, e.g. \"UNHCR Sub-Office Sittwe\".", valueName: "text"))
    var displayName: String = ""

    func validate() throws {
        guard Names.isValidAccount(self.name) else {
            throw ValidationError("account name '\(self.name)' must match [a-z0-9][a-z0-9_.-]{0,63}")
        }
        if self.kind == .office, self.parent == nil {
            throw ValidationError("a field office needs --parent <entity>")
        }
        if self.kind == .entity, self.parent != nil {
            throw ValidationError("an entity has no parent; use --kind office for a field office")
        }
    }

    func run() async throws {
        let account = Account(
            name: self.name,
            kind: self.kind,
            parent: self.parent,
            country: self.country,
            role: self.role,
            displayName: self.displayName,
            clearance: self.clearance
        )
        let audit = self.actor.audit
        try await self.database.run { connection in
            try audit.perform(on: connection) { connection in
                try Accounts().add(account, on: connection)
                return ((), [AdminChange(.accountAdded, account: account.name, reason: Self.description(account))])
            }
        }
        print("added \(self.kind.rawValue) \(self.name)")
    }

    /// The audit reason for a new account: its kind and every field set, e.g.
    /// `added office (parent unhcr, country mm), role member, clearance internal`.
    static func description(_ account: Account) -> String {
        var details: [String] = []
        if let parent = account.parent { details.append("parent \(parent)") }
        if let country = account.country { details.append("country \(country)") }
        if !account.displayName.isEmpty { details.append("display name '\(account.displayName)'") }
        let suffix = details.isEmpty ? "" : " (\(details.joined(separator: ", ")))"
        return
            "added \(account.kind.rawValue)\(suffix), role \(account.role.rawValue), clearance \(account.clearance.rawValue)"
    }
}
