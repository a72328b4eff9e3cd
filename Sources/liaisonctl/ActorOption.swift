import ArgumentParser
import Foundation
import LiaisonStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--actor NAME`: who an admin change is recorded as made by (docs/AUDIT.md, "Admin changes").
struct ActorOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Who makes this change, for the audit trail (default: $SUDO_USER under sudo, else the operating-system user).",
            valueName: "name"
        )
    )
    var actor: String?

    /// The longest `--actor`, in characters: a name, not a document.
    static let maxLength = 128

    func validate() throws {
        guard let actor = self.actor else { return }
        if actor.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--actor must not be empty")
        }
        if actor.count > Self.maxLength {
            throw ValidationError("--actor must be at most \(Self.maxLength) characters")
        }
        // A newline or an escape sequence would forge rows or colours in `audit events` output.
        if actor.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw ValidationError("--actor must not contain control characters (newlines, tabs, escapes)")
        }
    }

    /// The recorder for this command's changes, attributed to ``resolved``.
    var audit: AdminAudit { AdminAudit(actor: self.resolved) }

    /// `--actor`, else `SUDO_USER` (the person behind `sudo liaisonctl`), else the effective
    /// user's name from the password database, else `uid N`.
    var resolved: String {
        if let actor = self.actor { return actor }
        if let sudoUser = ProcessInfo.processInfo.environment["SUDO_USER"], !sudoUser.isEmpty { return sudoUser }
        let uid = geteuid()
        if let entry = getpwuid(uid), let name = entry.pointee.pw_name {
            return String(cString: name)
        }
        return "uid \(uid)"
    }
}
