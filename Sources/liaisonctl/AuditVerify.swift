import ArgumentParser
import Foundation
import LiaisonCore
import LiaisonStore

/// `liaisonctl audit verify`: recomputes the Merkle tree from the message rows and checks every
/// signed checkpoint (docs/AUDIT.md, "Verifying").
struct AuditVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that the message log still matches its signed checkpoints.",
        discussion: """
            Recomputes every sealed message's leaf hash from its row and the tree from those \
            leaves, checks each checkpoint's Ed25519 signature and root, and names the first seq \
            that no longer matches (exit status 1). Progress goes to standard error.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Verify from this seq (starting at the last checkpoint before it).", valueName: "seq"))
    var from: Int64?

    @Option(help: ArgumentHelp("Verify up to this seq.", valueName: "seq"))
    var to: Int64?

    @Option(
        name: .customLong("public-key"),
        help: ArgumentHelp(
            "Trust only the keys in this file (from `audit key`), not the database's.",
            valueName: "file"
        )
    )
    var publicKey: String?

    @Option(
        help: ArgumentHelp(
            "A kept checkpoint (from `audit checkpoint`): the log must still extend it.",
            valueName: "file"
        )
    )
    var checkpoint: String?

    func validate() throws {
        if let from, from < 1 { throw ValidationError("--from must be a seq of at least 1") }
        if let from, let to, to < from { throw ValidationError("--to must not be below --from") }
    }

    func run() async throws {
        var options = AuditVerification.Options(from: self.from, to: self.to)
        if let path = self.publicKey {
            options.keys = try AuditPublicKey.parseFile(
                String(decoding: try FileContents.read(path, what: "public key file"), as: UTF8.self)
            )
        }
        if let path = self.checkpoint {
            options.kept = try Checkpoint(
                parsing: String(decoding: try FileContents.read(path, what: "checkpoint file"), as: UTF8.self)
            )
        }
        let started = Date()
        let progress = ProgressLine(started: started)
        let chosen = options
        let report = try await self.database.run { connection in
            try AuditVerification().run(chosen, on: connection) { rows, seq in progress.update(rows: rows, seq: seq) }
        }
        let seconds = Date().timeIntervalSince(started)
        print(Self.summary(report, kept: options.kept, seconds: seconds))
    }

    /// The security events' line: how many sealed events match, and the last event checkpoint.
    static func eventSummary(_ report: AuditVerification.Report) -> String {
        var line = "events: \(report.sealedEvents) sealed security events match their leaves"
        if let last = report.eventCheckpoints.last {
            line +=
                "; \(report.eventCheckpoints.count) event checkpoints check out, the last covers events 1–\(last.lastSeq)"
        }
        if report.unsealedEvents > 0 { line += "; \(report.unsealedEvents) not yet sealed" }
        return line
    }

    static func summary(_ report: AuditVerification.Report, kept: Checkpoint?, seconds: Double) -> String {
        var lines: [String] = []
        let rate = seconds > 0 ? Int(Double(report.sealedRows) / seconds) : 0
        lines.append(
            "ok: \(report.sealedRows) sealed messages after seq \(report.startSeq) match their leaves "
                + "(\(String(format: "%.1f", seconds)) s, \(rate) messages/s)"
        )
        if report.purgedRows > 0 {
            lines.append(
                "purged: \(report.purgedRows) of them were purged by retention; their purge records match their sealed leaves and their policies"
            )
        }
        if let last = report.checkpoints.last {
            lines.append(
                "signed: \(report.checkpoints.count) checkpoints check out; the last covers seq 1–\(last.lastSeq) "
                    + "(tree size \(last.treeSize), root \(last.root.hex.prefix(16))…, \(RFC3339.format(last.time)), key \(last.keyID))"
            )
        } else {
            lines.append("signed: no checkpoint in this range yet")
        }
        if let kept {
            lines.append("kept checkpoint: tree size \(kept.treeSize) at seq \(kept.lastSeq): the log still extends it")
        }
        let unsignedSealed = report.lastSealedSeq > report.signedThroughSeq
        if unsignedSealed {
            lines.append(
                "not yet signed: messages after seq \(report.signedThroughSeq) match their stored leaves only, until the next checkpoint"
            )
        }
        if report.unsealedRows > 0 {
            lines.append("not yet sealed: \(report.unsealedRows) messages after seq \(report.lastSealedSeq)")
        }
        lines.append(Self.eventSummary(report))
        if report.keysFromDatabase {
            lines.append(
                "keys: taken from the database; pass --public-key with a key kept outside it for proof against its administrators"
            )
        }
        return lines.joined(separator: "\n")
    }
}

/// A progress line on standard error, at most every two seconds, for long runs.
final class ProgressLine: @unchecked Sendable {
    // @unchecked: used from the one database thread that runs the verification, then from run().
    private let started: Date
    private var last: Date

    init(started: Date) {
        self.started = started
        self.last = started
    }

    func update(rows: Int64, seq: Int64) {
        let now = Date()
        guard now.timeIntervalSince(self.last) >= 2 else { return }
        self.last = now
        let rate = Int(Double(rows) / max(0.001, now.timeIntervalSince(self.started)))
        FileHandle.standardError.write(Data("verified \(rows) messages, at seq \(seq), \(rate) messages/s\n".utf8))
    }
}
