import ArgumentParser
import LiaisonCore
import LiaisonStore

/// `liaisonctl retention hold [PATTERN] [--seq A-B] --reason TEXT`.
struct RetentionHoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Place a legal hold: the messages it covers are never purged until it is released.",
        discussion: """
            A hold covers the messages whose topic matches PATTERN and whose seq is in --seq (with \
            both, messages that satisfy both). Prints the hold's id, for `retention release`. \
            Recorded in the audit trail (retention.hold) with the actor.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var actor: ActorOption

    @Argument(help: ArgumentHelp("The topic pattern it covers.", valueName: "pattern"))
    var pattern: String?

    @Option(help: ArgumentHelp("The seq range it covers, A-B (or one seq).", valueName: "A-B"))
    var seq: String?

    @Option(help: ArgumentHelp("Why (a case number, a request), for the audit trail.", valueName: "text"))
    var reason: String

    func validate() throws {
        guard self.pattern != nil || self.seq != nil else {
            throw ValidationError("pass a pattern, --seq A-B, or both")
        }
        if let pattern = self.pattern { _ = try RetentionCommand.pattern(pattern) }
        if let seq = self.seq { _ = try Self.range(seq) }
        guard self.reason.contains(where: { !$0.isWhitespace }) else {
            throw ValidationError("--reason must not be empty")
        }
    }

    /// Parses `A-B` or `A` into a seq range, as a usage error when it is not one.
    static func range(_ text: String) throws -> ClosedRange<Int64> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let first = Int64(parts[0]), let last = Int64(parts[parts.count - 1]),
            first >= 1, first <= last
        else { throw ValidationError("--seq '\(text)' is not A-B with 1 <= A <= B") }
        return first...last
    }

    func run() async throws {
        let pattern = try self.pattern.map { try RetentionCommand.pattern($0) }
        let seqs = try self.seq.map { try Self.range($0) }
        let reason = self.reason
        let audit = self.actor.audit
        let hold = try await self.database.run { connection in
            try Retention().placeHold(pattern: pattern, seqs: seqs, reason: reason, audit: audit, on: connection)
        }
        print("hold \(hold.id) placed on \(hold.scope)")
    }
}
