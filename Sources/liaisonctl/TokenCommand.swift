import ArgumentParser

/// `liaisonctl token`: the bearer tokens accounts authenticate with.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Issue, revoke and list an account's tokens.",
        subcommands: [TokenIssue.self, TokenRevoke.self, TokenList.self]
    )
}
