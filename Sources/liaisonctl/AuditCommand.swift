import ArgumentParser

/// `liaisonctl audit`: the security audit trail.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read the security audit trail.",
        subcommands: [AuditEvents.self]
    )
}
