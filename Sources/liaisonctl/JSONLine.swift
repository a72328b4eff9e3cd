import Foundation

/// Writes one JSON object per line (JSON Lines), with sorted keys so that output is stable.
///
/// Strings, integers, booleans, null, arrays and objects are written here, byte for byte as
/// Foundation's `JSONSerialization` writes them with `.sortedKeys` and `.withoutEscapingSlashes`
/// (`\"`, `\\`, `\b \t \n \f \r`, other control characters as `\u00xx`, everything else as UTF-8),
/// but about three times faster, which matters to `messages export` of millions of rows; any
/// other value (a floating-point number, say) hands the whole object to `JSONSerialization`.
enum JSONLine {
    /// The object as one line of JSON.
    static func encode(_ object: [String: Any]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        if Self.append(object, to: &bytes) {
            return String(decoding: bytes, as: UTF8.self)
        }
        let data =
            (try? JSONSerialization.data(
                withJSONObject: object,
                options: [.sortedKeys, .withoutEscapingSlashes]
            )) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Appends `value`'s JSON; `false` for a type this writer leaves to `JSONSerialization`.
    private static func append(_ value: Any, to bytes: inout [UInt8]) -> Bool {
        switch value {
        case let text as String:
            Self.appendString(text, to: &bytes)
        case let flag as Bool:
            bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case let number as Int:
            bytes.append(contentsOf: String(number).utf8)
        case let number as Int64:
            bytes.append(contentsOf: String(number).utf8)
        case is NSNull:
            bytes.append(contentsOf: "null".utf8)
        case let object as [String: Any]:
            bytes.append(UInt8(ascii: "{"))
            // JSONSerialization's order for `.sortedKeys` (numeric, case-insensitive; checked
            // against it for every key liaisonctl writes; keys equal but for case may differ).
            let keys = object.keys.sorted {
                $0.compare($1, options: [.numeric, .caseInsensitive, .forcedOrdering]) == .orderedAscending
            }
            for (index, key) in keys.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                Self.appendString(key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                guard Self.append(object[key]!, to: &bytes) else { return false }
            }
            bytes.append(UInt8(ascii: "}"))
        case let array as [Any]:
            bytes.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                guard Self.append(element, to: &bytes) else { return false }
            }
            bytes.append(UInt8(ascii: "]"))
        default:
            return false
        }
        return true
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func appendString(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0..<0x20:
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(Self.hexDigits[Int(byte >> 4)])
                bytes.append(Self.hexDigits[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
