/// Parses the text of a JSON object whose values are all strings (`{"prio": "flash"}`), as
/// PostgreSQL prints a `jsonb` value (`headers::text`), into its key/value pairs.
///
/// The sealer and `audit verify` read `messages.headers` this way instead of asking PostgreSQL
/// to take the object apart with `jsonb_each_text`: those set-returning subqueries were half of
/// the database's work in sealing (measured with `perf`, docs/BENCHMARKS.md). The grammar is RFC
/// 8259's (sections 4 and 7) restricted to one flat object of strings; anything else (an array, a
/// number, `null`, a nested object, a bad escape, trailing bytes) is `nil`, which the callers treat
/// as a row liaisond never wrote.
enum FlatJSONObject {
    /// The pairs in the order of the text, or `nil` when the text is not a flat object of strings.
    ///
    /// - Parameter text: UTF-8 JSON text.
    static func parse(_ text: String) -> [(key: String, value: String)]? {
        var reader = Reader(bytes: Array(text.utf8))
        return reader.object()
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        mutating func object() -> [(key: String, value: String)]? {
            self.skipSpace()
            guard self.take(UInt8(ascii: "{")) else { return nil }
            var pairs: [(key: String, value: String)] = []
            self.skipSpace()
            if self.take(UInt8(ascii: "}")) { return self.atEnd() ? pairs : nil }
            while true {
                self.skipSpace()
                guard let key = self.string() else { return nil }
                self.skipSpace()
                guard self.take(UInt8(ascii: ":")) else { return nil }
                self.skipSpace()
                guard let value = self.string() else { return nil }
                pairs.append((key, value))
                self.skipSpace()
                if self.take(UInt8(ascii: ",")) { continue }
                guard self.take(UInt8(ascii: "}")) else { return nil }
                return self.atEnd() ? pairs : nil
            }
        }

        private mutating func atEnd() -> Bool {
            self.skipSpace()
            return self.index == self.bytes.count
        }

        private mutating func skipSpace() {
            while self.index < self.bytes.count {
                switch self.bytes[self.index] {
                case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
                default: return
                }
            }
        }

        private mutating func take(_ byte: UInt8) -> Bool {
            guard self.index < self.bytes.count, self.bytes[self.index] == byte else { return false }
            self.index += 1
            return true
        }

        /// A string (the opening quote next), unescaped.
        private mutating func string() -> String? {
            guard self.take(UInt8(ascii: "\"")) else { return nil }
            var out: [UInt8] = []
            while self.index < self.bytes.count {
                let byte = self.bytes[self.index]
                self.index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(validating: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard self.escape(into: &out) else { return nil }
                case 0..<0x20:
                    return nil
                default:
                    out.append(byte)
                }
            }
            return nil
        }

        private mutating func escape(into out: inout [UInt8]) -> Bool {
            guard self.index < self.bytes.count else { return false }
            let byte = self.bytes[self.index]
            self.index += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(byte)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = self.hex4() else { return false }
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one (RFC 8259 section 7).
                    guard self.take(UInt8(ascii: "\\")), self.take(UInt8(ascii: "u")), let low = self.hex4(),
                        (0xDC00..<0xE000).contains(low)
                    else { return false }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { return false }
                out.append(contentsOf: Array(String(Character(unicode)).utf8))
            default:
                return false
            }
            return true
        }

        private mutating func hex4() -> UInt32? {
            guard self.index + 4 <= self.bytes.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = self.bytes[self.index]
                self.index += 1
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
    }
}
