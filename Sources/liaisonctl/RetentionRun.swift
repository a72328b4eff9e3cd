import ArgumentParser
import Foundation
import LiaisonStore

/// `liaisonctl retention run [--dry-run]`: one purge pass now.
struct RetentionRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Purge now: messages past their policy's keep, not held, covered by a signed checkpoint.",
        discussion: """
            Runs in transactions of --batch-size messages, never under the append lock (publishing \
            goes on). Progress goes to standard error, a summary to standard output. Fails (exit 1) \
            while another purge (a daemon's retention service) runs. Dedupe keys are expired only \
            with --dedupe-window-seconds (pass the daemon's dedupe.windowSeconds).
            """
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var actor: ActorOption

    @Flag(name: .customLong("dry-run"), help: "Count what would be purged; change nothing.")
    var dryRun = false

    @Option(name: .customLong("batch-size"), help: ArgumentHelp("Messages per transaction (1-100000).", valueName: "n"))
    var batchSize = 1_000

    @Option(
        name: .customLong("dedupe-window-seconds"),
        help: ArgumentHelp(
            "Also expire dedupe keys older than this (the daemon's dedupe.windowSeconds).",
            valueName: "s"
        )
    )
    var dedupeWindowSeconds: Int64?

    func validate() throws {
        guard (1...100_000).contains(self.batchSize) else { throw ValidationError("--batch-size must be 1 to 100000") }
        if let window = self.dedupeWindowSeconds, window < 1 {
            throw ValidationError("--dedupe-window-seconds must be at least 1")
        }
    }

    func run() async throws {
        let options = PurgeOptions(
            runBy: self.actor.resolved,
            batchSize: self.batchSize,
            dedupeWindowSeconds: self.dedupeWindowSeconds,
            dryRun: self.dryRun
        )
        let started = Date()
        let pass = try await self.database.run { connection -> PurgePass in
            let purger = RetentionPurger()
            guard var pass = try purger.begin(options, on: connection) else {
                throw CLIFailure(
                    "another purge is running on this database (a daemon's retention service?); try again later"
                )
            }
            var last = Date()
            do {
                while !pass.isDone {
                    try purger.step(&pass, on: connection)
                    if Date().timeIntervalSince(last) >= 2 {
                        last = Date()
                        FileHandle.standardError.write(Data(Self.progress(pass).utf8))
                    }
                }
                try purger.end(pass, on: connection)
            } catch {
                purger.abandon(on: connection)
                throw error
            }
            return pass
        }
        print(Self.summary(pass, seconds: Date().timeIntervalSince(started)))
    }

    static func progress(_ pass: PurgePass) -> String {
        "looked at \(pass.scanned) messages up to seq \(pass.cursor), purged \(pass.purged), held \(pass.held)\n"
    }

    static func summary(_ pass: PurgePass, seconds: Double) -> String {
        let verb = pass.options.dryRun ? "would purge" : "purged"
        var lines = [
            "\(verb) \(pass.purged) messages (looked at \(pass.scanned) past the shortest keep, up to seq \(pass.ceiling), the last signed checkpoint; \(String(format: "%.1f", seconds)) s)"
        ]
        for (pattern, count) in pass.purgedByPattern.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(pattern): \(count)")
        }
        if pass.held > 0 { lines.append("held: \(pass.held) messages past their keep are under a legal hold") }
        if pass.mismatched > 0 {
            lines.append(
                "not purged: \(pass.mismatched) messages no longer match their sealed leaves (run `liaisonctl audit verify`)"
            )
        }
        if pass.options.dedupeWindowSeconds != nil {
            lines.append("dedupe keys: \(pass.options.dryRun ? "would expire" : "expired") \(pass.dedupeKeys)")
        }
        if let id = pass.purgeID { lines.append("recorded as purge \(id)") }
        return lines.joined(separator: "\n")
    }
}
