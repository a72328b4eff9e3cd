/// Byte constants and character classes of the wire grammar, so parsers compare UTF-8 bytes
/// instead of building `Character`s.
enum ASCII {
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let dot: UInt8 = 0x2E
    static let equals: UInt8 = 0x3D
    static let star: UInt8 = 0x2A
    static let greaterThan: UInt8 = 0x3E
    static let underscore: UInt8 = 0x5F
    static let hyphen: UInt8 = 0x2D
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39

    /// `0-9`.
    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte &- zero < 10
    }

    /// `a-z`.
    @inline(__always)
    static func isLower(_ byte: UInt8) -> Bool {
        byte &- 0x61 < 26
    }

    /// `A-Za-z0-9`.
    @inline(__always)
    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20) &- 0x61 < 26
    }

    /// `A-Za-z0-9_-`: the bytes of a topic token, a subscription id or a durable name.
    @inline(__always)
    static func isNameByte(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == underscore || byte == hyphen
    }

    /// A C0 control character or DEL.
    @inline(__always)
    static func isControl(_ byte: UInt8) -> Bool {
        byte < space || byte == 0x7F
    }

    /// Compares `text` with an upper-case ASCII `word`, ignoring ASCII case.
    static func equalsIgnoringCase(_ text: Substring, _ word: StaticString) -> Bool {
        let utf8 = text.utf8
        guard utf8.count == word.utf8CodeUnitCount else {
            return false
        }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        var index = 0
        for byte in utf8 {
            let folded = isLower(byte) ? byte &- 0x20 : byte
            if folded != expected[index] {
                return false
            }
            index += 1
        }
        return true
    }

    /// Parses a non-negative decimal of at most `maxDigits` digits, without sign or spaces.
    ///
    /// - Returns: The value, or `nil` when `text` is empty, holds a non-digit, is longer than
    ///   `maxDigits`, or does not fit an `Int64`.
    static func parseDecimal(_ text: Substring, maxDigits: Int = 19) -> Int64? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= maxDigits else {
            return nil
        }
        var value: Int64 = 0
        for byte in utf8 {
            guard isDigit(byte) else {
                return nil
            }
            let (timesTen, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = timesTen.addingReportingOverflow(Int64(byte &- zero))
            if overflowA || overflowB {
                return nil
            }
            value = sum
        }
        return value
    }
}
