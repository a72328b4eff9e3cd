/// Payload bytes shown on one line of text output.
enum PrintableText {
    /// The payload as UTF-8 with control characters (CR, LF, NUL, ...), invalid bytes and other
    /// non-printable characters shown as `.`, so one message stays on one line; the exact bytes
    /// are in the JSON Lines formats (`payload_base64`).
    ///
    /// - Parameters:
    ///   - payload: The message's bytes.
    ///   - maxCharacters: At most this many characters, then `...`; `nil` for all of them.
    static func line(_ payload: [UInt8], maxCharacters: Int? = nil) -> String {
        // Four bytes at most per character: enough bytes for the limit, without decoding them all.
        let bytes = maxCharacters.map { payload.prefix($0 * 4 + 4) } ?? payload[...]
        var text = ""
        var count = 0
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            if let maxCharacters, count >= maxCharacters {
                text += "..."
                break
            }
            let printable =
                scalar.properties.generalCategory != .control && scalar != "\u{FFFD}"
                && scalar.properties.generalCategory != .format
            text.unicodeScalars.append(printable ? scalar : ".")
            count += 1
        }
        return text
    }
}
