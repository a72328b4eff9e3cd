import Foundation

/// Comma-separated values as RFC 4180 defines them: fields joined by `,`, records ended by CRLF,
/// and a field that holds a comma, a double quote, CR or LF enclosed in double quotes with each
/// double quote doubled (RFC 4180, section 2, rules 5-7).
enum CSV {
    /// One record, CRLF included.
    static func record(_ fields: [String]) -> String {
        fields.map(Self.field).joined(separator: ",") + "\r\n"
    }

    /// One field, quoted when it must be.
    static func field(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 })
        else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
