import ArgumentParser
import LiaisonCore

/// `liaisonctl retention`: policies, legal holds and purging (docs/AUDIT.md, "Retention").
struct RetentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Keep messages per topic pattern for N days; place and release legal holds; purge.",
        discussion: """
            Where several policies match a topic the longest keep wins; a topic no policy matches is \
            kept for ever (set a default with the pattern '>'). A hold overrides every policy until \
            it is released. The daemon purges every retention.intervalSeconds; `retention run` \
            purges now. Only messages a signed audit checkpoint covers are purged.
            """,
        subcommands: [
            RetentionList.self, RetentionSet.self, RetentionHoldCommand.self, RetentionRelease.self,
            RetentionRun.self,
        ]
    )

    /// Parses a pattern argument, as a usage error (exit 64) when it is not one.
    static func pattern(_ text: String, what: String = "pattern") throws -> TopicPattern {
        do { return try TopicPattern(text) } catch { throw ValidationError("\(what) '\(text)': \(error.message)") }
    }
}
