import LiaisonCore

extension Headers {
    /// The headers as a flat JSON object of strings, for the `messages.headers` jsonb column.
    ///
    /// Keys are `[A-Za-z0-9_.-]` and values printable without spaces (the protocol grammar), so
    /// only `"` and `\` (and, defensively, control bytes) need escaping (RFC 8259 section 7).
    var jsonText: String {
        if self.isEmpty { return "{}" }
        var out = "{"
        var first = true
        for (key, value) in self {
            if !first { out += "," }
            first = false
            Self.appendJSONString(key, to: &out)
            out += ":"
            Self.appendJSONString(value, to: &out)
        }
        out += "}"
        return out
    }

    private static func appendJSONString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case let s where s.value < 0x20:
                let hex = String(s.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
