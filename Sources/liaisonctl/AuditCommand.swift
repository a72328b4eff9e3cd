import ArgumentParser

/// `liaisonctl audit`: the security audit trail and the message log's tamper evidence (docs/AUDIT.md).
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read the security audit trail; verify the message log against its signed checkpoints.",
        subcommands: [AuditEvents.self, AuditVerify.self, AuditCheckpointCommand.self, AuditKeyCommand.self]
    )
}
