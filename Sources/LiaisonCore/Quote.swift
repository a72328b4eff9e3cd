/// Quotes client input inside error messages, short enough to keep a reply line readable.
enum Quote {
    /// The most bytes of client input an error message repeats.
    static let maxBytes = 64

    /// `text` in double quotes, cut to ``maxBytes`` bytes at a character boundary with "..." appended.
    ///
    /// Control characters are left for ``ProtocolError/replyLine`` to replace.
    static func text(_ text: Substring) -> String {
        var quoted = "\""
        var bytes = 0
        for scalar in text.unicodeScalars {
            let width = UTF8.width(scalar)
            if bytes + width > maxBytes {
                quoted += "..."
                break
            }
            bytes += width
            quoted.unicodeScalars.append(scalar)
        }
        quoted += "\""
        return quoted
    }
}
