import Foundation

/// Writes one JSON object per line (JSON Lines), with sorted keys so that output is stable.
enum JSONLine {
    /// The object as one line of JSON.
    static func encode(_ object: [String: Any]) -> String {
        let data =
            (try? JSONSerialization.data(
                withJSONObject: object,
                options: [.sortedKeys, .withoutEscapingSlashes]
            )) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
