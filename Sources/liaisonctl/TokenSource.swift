import Foundation

/// Where `pub`, `sub` and `bench` take the account's token from: the text itself (`--token`,
/// `LIAISON_TOKEN`) or a file holding it (`--token-file`, `LIAISON_TOKEN_FILE`), which keeps it
/// out of the command line that every user can read in `ps` and `/proc/<pid>/cmdline`.
enum TokenSource {
    /// The token as given.
    case text(String)
    /// The path of a file holding the token.
    case file(String)

    /// Reads the token from the file at `path`, surrounding whitespace (a final newline) trimmed.
    ///
    /// - Throws: ``CLIFailure`` naming the file when it cannot be read, is empty, or holds more
    ///   than one word.
    static func read(_ path: String) throws -> String {
        let data = try FileContents.read(path, what: "the token file")
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw CLIFailure("the token file \(path) is empty")
        }
        guard !token.contains(where: \.isWhitespace) else {
            throw CLIFailure("the token file \(path) holds more than one token: put the token alone in it")
        }
        return token
    }
}
