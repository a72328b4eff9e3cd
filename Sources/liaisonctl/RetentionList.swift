import ArgumentParser
import Foundation
import LiaisonCore
import LiaisonStore

/// `liaisonctl retention list`: the policies, the holds in force (all with `--released`), and
/// the last purges.
struct RetentionList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Show the retention policies, the legal holds and the recent purges."
    )

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Also show released holds.")
    var released = false

    func run() async throws {
        let includeReleased = self.released
        let (policies, holds, purges) = try await self.database.run { connection in
            let retention = Retention()
            return (
                try retention.policies(on: connection),
                try retention.holds(includeReleased: includeReleased, on: connection),
                try retention.purges(limit: 5, on: connection)
            )
        }
        print(Self.render(policies: policies, holds: holds, purges: purges))
    }

    static func render(policies: [RetentionPolicy], holds: [RetentionHold], purges: [PurgeRecordSummary]) -> String {
        var out: [String] = []
        if policies.isEmpty {
            out.append("policies: none (every message is kept for ever)")
        } else {
            var table = TextTable(["PATTERN", "KEEP", "SET BY", "SET AT"])
            for policy in policies {
                table.append([
                    policy.pattern.value, "\(policy.keepDays) days", policy.setBy, Self.time(policy.setAtMicroseconds),
                ])
            }
            out.append(table.rendered)
        }
        out.append("")
        if holds.isEmpty {
            out.append("holds: none")
        } else {
            var table = TextTable(["HOLD", "COVERS", "PLACED BY", "PLACED AT", "RELEASED", "REASON"])
            for hold in holds {
                let released =
                    hold.releasedAtMicroseconds.map { "\(Self.time($0)) by \(hold.releasedBy ?? "?")" } ?? "-"
                table.append([
                    "\(hold.id)", hold.scope, hold.placedBy, Self.time(hold.placedAtMicroseconds), released,
                    PrintableText.line(Array(hold.reason.utf8), maxCharacters: 60),
                ])
            }
            out.append(table.rendered)
        }
        out.append("")
        if purges.isEmpty {
            out.append("purges: none yet")
        } else {
            var table = TextTable(["PURGE", "RUN BY", "STARTED", "MESSAGES", "DEDUPE KEYS"])
            for purge in purges {
                table.append([
                    "\(purge.id)", purge.runBy, Self.time(purge.startedAtMicroseconds), "\(purge.messages)",
                    "\(purge.dedupeKeys)",
                ])
            }
            out.append(table.rendered)
        }
        return out.joined(separator: "\n")
    }

    static func time(_ microseconds: Int64) -> String {
        RFC3339.format(Date(timeIntervalSince1970: Double(microseconds) / 1_000_000))
    }
}
