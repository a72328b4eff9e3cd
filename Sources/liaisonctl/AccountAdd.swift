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
        try await self.database.run { connection in
            try Accounts().add(account, on: connection)
        }
        print("added \(self.kind.rawValue) \(self.name)")
    }
}
