/// What one run of `liaisonctl` produced.
struct CLIResult: Sendable, CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    /// Standard output split into lines, without the trailing empty one.
    var lines: [String] {
        self.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    var description: String {
        "exit \(self.status)\n--- stdout\n\(self.stdout)--- stderr\n\(self.stderr)"
    }
}
