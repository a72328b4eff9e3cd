import ArgumentParser
import Foundation
import LiaisonStore

/// `liaisonctl audit checkpoint`: the newest signed checkpoint, for an office to keep.
struct AuditCheckpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Print the latest signed checkpoint of the message log.",
        discussion: """
            Keep the output (and the public key from `audit key`); later, \
            `audit verify --checkpoint FILE --public-key KEYFILE` shows that the log still extends it.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Print one JSON object instead of the signed note text.")
    var json = false

    func run() async throws {
        let found = try await self.database.run { connection in
            let log = AuditLog()
            return (try log.latestCheckpoint(on: connection)?.checkpoint, try log.keys(on: connection))
        }
        guard let checkpoint = found.0 else {
            throw CLIFailure("no checkpoint yet: is a liaisond with audit.enabled running on this database?")
        }
        guard self.json else {
            print(checkpoint.noteText, terminator: "")
            return
        }
        var fields = checkpoint.jsonFields
        fields["time"] = ISO8601DateFormatter().string(from: checkpoint.time)
        if let key = found.1.first(where: { $0.keyID == checkpoint.keyID }) { fields["public_key"] = key.text }
        print(JSONLine.encode(fields))
    }
}

/// `liaisonctl audit key`: the public keys that check checkpoint signatures.
struct AuditKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Print the public key(s) that sign checkpoints, one `ed25519:<base64>` per line.",
        discussion: """
            Without --key-file the keys recorded in the database are printed (key id after the key); \
            with it, the public half of that private key file (on the daemon's host).
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(
        name: .customLong("key-file"),
        help: ArgumentHelp("Derive the key from this private key file.", valueName: "file")
    )
    var keyFile: String?

    func run() async throws {
        if let path = self.keyFile {
            let key = try AuditSigningKey.load(from: path).publicKey
            print("\(key.text) \(key.keyID)")
            return
        }
        let keys = try await self.database.run { connection in try AuditLog().keys(on: connection) }
        guard !keys.isEmpty else {
            throw CLIFailure("no signing key recorded yet: the sealer records its key with its first checkpoint")
        }
        for key in keys { print("\(key.text) \(key.keyID)") }
    }
}
