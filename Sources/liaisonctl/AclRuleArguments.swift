import ArgumentParser
import LiaisonCore

/// `<account> <pub|sub> <pattern> [--deny]`, shared by `acl grant` and `acl revoke`.
struct AclRuleArguments: ParsableArguments {
    @Argument(help: "The account name.")
    var account: String

    @Argument(help: ArgumentHelp("pub (publishing to topics) or sub (subscribing and reading).", valueName: "pub|sub"))
    var action: AccessAction

    @Argument(
        help: ArgumentHelp("A topic pattern, e.g. 'hq.ohchr.>' or 'field.mm.*.early-warning'.", valueName: "pattern")
    )
    var pattern: String

    @Flag(help: "A deny rule instead of an allow rule.")
    var deny = false

    func validate() throws {
        _ = try self.rule()
    }

    /// The rule these arguments describe.
    ///
    /// - Throws: `ValidationError` for an invalid pattern.
    func rule() throws -> AccessRule {
        do {
            return AccessRule(
                action: self.action,
                effect: self.deny ? .deny : .allow,
                pattern: try TopicPattern(self.pattern)
            )
        } catch {
            throw ValidationError("<pattern>: \(error.message)")
        }
    }
}
