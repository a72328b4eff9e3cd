import Foundation

/// The keys of a JSON document's objects, each with its path and the line it is on: what
/// `JSONSerialization` does not tell, and a configuration error should (``ConfigurationFileKeys``).
///
/// The text is expected to parse (the file provider read it first); malformed text gives some
/// of its keys and never traps. Keys inside arrays are not listed: no setting is an array of
/// objects. A key's escapes are decoded as the parser decodes them (`"\u006cimits"` is `limits`).
enum JSONKeyScanner {
    /// One key of an object.
    struct Entry: Equatable {
        /// The keys from the top-level object down to this one (`["limits", "maxPayload"]`).
        var path: [String]
        /// The 1-based line of the key's name.
        var line: Int
        /// Whether the key's value is an object.
        var isObject: Bool
    }

    /// An open container: an object (with the path to it, or `nil` inside an array) or an array.
    private struct Container {
        var path: [String]?
        var key: String?
        var keyLine = 0
        var expectsKey: Bool
    }

    /// The keys of `text`, in the order they are written.
    static func entries(of text: String) -> [Entry] {
        let bytes = Array(text.utf8)
        var entries: [Entry] = []
        var stack: [Container] = []
        var line = 1
        var index = 0
        /// Called where a value starts: lists the key it belongs to, when in an object.
        func valueStarts(isObject: Bool) -> [String]? {
            guard var top = stack.last, let path = top.path, let key = top.key else { return nil }
            entries.append(Entry(path: path + [key], line: top.keyLine, isObject: isObject))
            top.key = nil
            stack[stack.count - 1] = top
            return path + [key]
        }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\n"):
                line += 1
            case UInt8(ascii: "\""):
                let start = line
                var string: [UInt8] = []
                var escaped = false
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count {
                        // Kept as written, the escape and what it escapes, for ``unescaped(_:)``.
                        escaped = true
                        string.append(bytes[index])
                        index += 1
                    }
                    if bytes[index] == UInt8(ascii: "\n") { line += 1 }
                    string.append(bytes[index])
                    index += 1
                }
                index += 1
                if var top = stack.last, top.path != nil, top.expectsKey {
                    let key = escaped ? Self.unescaped(string) : String(decoding: string, as: UTF8.self)
                    (top.key, top.keyLine, top.expectsKey) = (key, start, false)
                    stack[stack.count - 1] = top
                } else {
                    _ = valueStarts(isObject: false)
                }
            case UInt8(ascii: "{"):
                let inArray = stack.last.map { $0.path == nil } ?? false
                let path = stack.isEmpty ? [] : valueStarts(isObject: true)
                stack.append(Container(path: inArray ? nil : path, expectsKey: !inArray))
            case UInt8(ascii: "["):
                _ = valueStarts(isObject: false)
                stack.append(Container(path: nil, expectsKey: false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = stack.popLast()
            case UInt8(ascii: ","):
                if var top = stack.last, top.path != nil {
                    top.expectsKey = true
                    stack[stack.count - 1] = top
                }
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: ":"):
                break
            default:
                // The first byte of a number, `true`, `false` or `null`; the rest are skipped as
                // they come, since only a key is waited for.
                _ = valueStarts(isObject: false)
            }
        }
        return entries
    }

    /// A JSON string's content with its escapes (`\u006c`, `\"`, …) decoded, as the parser reads
    /// the key; as written when it is not a valid JSON string.
    private static func unescaped(_ raw: [UInt8]) -> String {
        let quoted = Data([UInt8(ascii: "\"")] + raw + [UInt8(ascii: "\"")])
        return (try? JSONDecoder().decode(String.self, from: quoted)) ?? String(decoding: raw, as: UTF8.self)
    }
}
