internal import CLibPQ

extension Connection {
    /// What a connection string must look like, for error messages.
    static let expectedConnectionString = "expected postgresql://user@host:port/db or key=value pairs"

    /// Checks a connection string without connecting.
    ///
    /// Accepts the two forms of the PostgreSQL manual, libpq "Connection Strings": a URI starting
    /// with `postgresql://` or `postgres://`, or `key=value` pairs separated by spaces, as
    /// `PQconninfoParse` parses them (unknown keywords, unbalanced quotes or brackets are refused).
    /// Refuses in addition what libpq would accept but almost certainly is a mistake:
    ///
    /// - an empty string (libpq would connect to the default local socket);
    /// - a string that is neither form, such as `postgres:/oops` or `mydb` (libpq would take it
    ///   as a database *name* and connect to the default local socket);
    /// - a keyword given with an empty value, such as `host=` (libpq would silently use its default);
    /// - a `port` that is not a decimal number (or a comma-separated list of them).
    ///
    /// Messages never repeat the whole string, which may hold a password.
    ///
    /// - Parameter conninfo: The connection string.
    /// - Throws: `PostgresError(.invalidArgument)` saying what is wrong.
    public static func validate(_ conninfo: String) throws {
        guard !conninfo.allSatisfy(\.isWhitespace) else {
            throw PostgresError(.invalidArgument, "empty connection string; \(expectedConnectionString)")
        }
        // libpq's own rule for whether a dbname value is a connection string
        // (`recognized_connection_string` in fe-connect.c): a URI prefix, or an `=` anywhere.
        let isURI = conninfo.hasPrefix("postgresql://") || conninfo.hasPrefix("postgres://")
        guard isURI || conninfo.contains("=") else {
            throw PostgresError(
                .invalidArgument,
                "connection string is neither a URI nor key=value pairs; \(expectedConnectionString)"
            )
        }
        for (keyword, value) in try parsedParameters(conninfo) {
            if value.isEmpty {
                throw PostgresError(
                    .invalidArgument,
                    "connection parameter \(keyword) has an empty value; \(expectedConnectionString)"
                )
            }
            if keyword == "port" && !value.split(separator: ",").allSatisfy(isDecimal) {
                throw PostgresError(.invalidArgument, "connection parameter port is not a number: \(value)")
            }
        }
    }

    /// The keywords the string sets, with their values, as `PQconninfoParse` reads them.
    ///
    /// - Throws: `PostgresError(.invalidArgument)` with libpq's message, the string itself
    ///   replaced by `<connection string>`.
    private static func parsedParameters(_ conninfo: String) throws -> [(String, String)] {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            defer { PQfreemem(errorMessage) }
            let message = PostgresError.trimmed(errorMessage) ?? "libpq could not parse it (out of memory?)"
            throw PostgresError(
                .invalidArgument,
                "invalid connection string: \(message.replacing(conninfo, with: "<connection string>")); "
                    + expectedConnectionString
            )
        }
        defer { PQconninfoFree(options) }
        var parameters: [(String, String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                parameters.append((String(cString: keyword), String(cString: value)))
            }
            option += 1
        }
        return parameters
    }
}

/// Whether `text` is one or more ASCII digits.
private func isDecimal(_ text: Substring) -> Bool {
    !text.isEmpty && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
}
