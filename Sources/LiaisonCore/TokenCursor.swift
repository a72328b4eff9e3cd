/// Splits a control line into tokens separated by one or more spaces, as slices of the line.
///
/// Only the space byte separates: a tab stays inside its token, where the character check
/// rejects it. No token is copied; each is a `Substring` sharing the line's storage.
struct TokenCursor: Sequence, IteratorProtocol {
    private let line: Substring
    private var position: Substring.Index

    init(_ line: Substring) {
        self.line = line
        self.position = line.startIndex
    }

    /// The next token, or `nil` at the end of the line.
    mutating func next() -> Substring? {
        let utf8 = self.line.utf8
        var start = self.position
        while start < utf8.endIndex && utf8[start] == ASCII.space {
            start = utf8.index(after: start)
        }
        guard start < utf8.endIndex else {
            self.position = start
            return nil
        }
        var end = start
        while end < utf8.endIndex && utf8[end] != ASCII.space {
            end = utf8.index(after: end)
        }
        self.position = end
        return self.line[start..<end]
    }

    /// Whether no token is left.
    var isAtEnd: Bool {
        var copy = self
        return copy.next() == nil
    }
}
