public import ArgumentParser
public import LiaisonCore

/// `liaisonctl acl`: the publish and subscribe rules of accounts.
struct AclCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acl",
        abstract: "Grant, revoke, list and check publish and subscribe rules.",
        discussion: """
            Each account has allow and deny topic patterns for pub and sub; a deny always wins. \
            A SUB pattern must be within one allowed pattern and overlap no denied one. Changes \
            reach live connections within a second, without a restart. See docs/SECURITY.md.
            """,
        subcommands: [AclGrant.self, AclRevoke.self, AclList.self, AclCheck.self]
    )
}

extension AccessAction: ExpressibleByArgument {}
