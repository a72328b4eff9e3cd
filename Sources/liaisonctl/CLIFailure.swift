/// A failure the CLI itself detects at run time (a bad file, a missing folder); exits 1.
struct CLIFailure: Error, CustomStringConvertible {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String {
        self.message
    }
}
