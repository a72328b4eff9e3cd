/// Validation of the names that appear on control lines, by a single scan of their UTF-8 bytes.
public enum Names {
    /// The longest account name, subscription id or durable name, in bytes.
    public static let maxLength = 64

    /// Whether `name` is a valid account name: `[a-z0-9][a-z0-9_.-]{0,63}` (lower-case only).
    public static func isValidAccount(_ name: Substring) -> Bool {
        let utf8 = name.utf8
        guard let first = utf8.first, utf8.count <= maxLength else {
            return false
        }
        guard ASCII.isLower(first) || ASCII.isDigit(first) else {
            return false
        }
        return utf8.allSatisfy { byte in
            ASCII.isLower(byte) || ASCII.isDigit(byte) || byte == ASCII.underscore || byte == ASCII.dot
                || byte == ASCII.hyphen
        }
    }

    /// Whether `name` is a valid account name: `[a-z0-9][a-z0-9_.-]{0,63}`.
    public static func isValidAccount(_ name: String) -> Bool {
        isValidAccount(name[...])
    }

    /// Whether `sid` is a valid subscription id: `[A-Za-z0-9_-]{1,64}`.
    public static func isValidSid(_ sid: Substring) -> Bool {
        let utf8 = sid.utf8
        return !utf8.isEmpty && utf8.count <= maxLength && utf8.allSatisfy(ASCII.isNameByte)
    }

    /// Whether `sid` is a valid subscription id: `[A-Za-z0-9_-]{1,64}`.
    public static func isValidSid(_ sid: String) -> Bool {
        isValidSid(sid[...])
    }

    /// Whether `name` is a valid durable name; the same grammar as a subscription id.
    public static func isValidDurable(_ name: Substring) -> Bool {
        isValidSid(name)
    }

    /// Whether `name` is a valid durable name; the same grammar as a subscription id.
    public static func isValidDurable(_ name: String) -> Bool {
        isValidSid(name[...])
    }
}
