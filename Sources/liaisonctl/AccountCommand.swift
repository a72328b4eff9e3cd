public import ArgumentParser
public import LiaisonCore

/// `liaisonctl account`: the entities and field offices of the network.
struct AccountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "Add, list, disable, enable and import accounts, and set their clearance.",
        subcommands: [
            AccountAdd.self, AccountList.self, AccountDisable.self, AccountEnable.self, AccountImport.self,
            AccountClearance.self,
        ]
    )
}

extension AccountKind: ExpressibleByArgument {}
extension AccountRole: ExpressibleByArgument {}
