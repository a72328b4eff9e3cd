import ArgumentParser
import Foundation

/// `liaisonctl`: administers a Liaison deployment (schema, accounts, tokens, the message log) and
/// talks to a running daemon (`pub`, `sub`, `bench`).
///
/// Shaped like swift-argument-parser's `Examples/math/Math.swift`: one struct per action, shared
/// connection options in option groups. Every failure prints `liaisonctl: error: <message>` on
/// standard error; the exit status is 64 for usage errors and 1 for everything else.
@main
struct Liaisonctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "liaisonctl",
        abstract: "Administer Liaison and talk to a running liaisond.",
        discussion: """
            Database commands read the PostgreSQL URL from --database-url or LIAISON_DATABASE_URL. \
            Daemon commands read --server (LIAISON_SERVER, default 127.0.0.1:7420), --account \
            (LIAISON_ACCOUNT) and --token (LIAISON_TOKEN).
            """,
        version: "0.1.0",
        subcommands: [
            Migrate.self, AccountCommand.self, TokenCommand.self, MessagesCommand.self,
            ConsumerCommand.self, DeadLetterCommand.self, AclCommand.self, AuditCommand.self, RetentionCommand.self,
            Pub.self, Sub.self, Bench.self, ReceiptsCommand.self, Status.self,
        ]
    )

    /// Parses the command line, runs the command and maps every error to the CLI's conventions.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            Self.fail(error)
        }
    }

    /// Prints `liaisonctl: error: <message>` and exits: 64 for usage errors, 1 (or the error's
    /// own code) otherwise. Help and version requests print to standard output and exit 0.
    static func fail(_ error: any Error) -> Never {
        let code = Self.exitCode(for: error)
        if code == .success {
            Self.exit(withError: error)
        }
        let message: String
        if code == .validationFailure {
            var text = Self.fullMessage(for: error)
            if text.hasPrefix("Error: ") {
                text.removeFirst("Error: ".count)
            }
            message = text
        } else {
            message = ErrorText.describe(error)
        }
        FileHandle.standardError.write(Data("liaisonctl: error: \(message)\n".utf8))
        Foundation.exit(code.rawValue)
    }
}
