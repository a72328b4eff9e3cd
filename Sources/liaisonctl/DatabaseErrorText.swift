import Foundation
import LiaisonStore
import Postgres

/// Says which database could not be reached and what to try, in place of libpq's bare message:
/// `cannot connect to the database postgresql://liaison@127.0.0.1:1/none: … — is PostgreSQL running …`.
enum DatabaseErrorText {
    /// The message for a failure to connect to (or a lost connection to) the database at `url`.
    ///
    /// - Returns: The message, or `nil` when `error` is not a connection failure (a refused
    ///   statement, a missing row: those keep their own words).
    static func describe(_ error: any Error, url: String) -> String? {
        let postgres: PostgresError
        switch error {
        case let error as PostgresError: postgres = error
        case let error as StoreError:
            guard let underlying = error.underlying else { return nil }
            postgres = underlying
        default: return nil
        }
        let place = Self.redacted(url)
        // libpq's first line says what failed; its second repeats the hint below.
        let detail = postgres.message.split(whereSeparator: \.isNewline).first.map(String.init) ?? postgres.message
        switch postgres.code {
        case .connectionFailed:
            return "cannot connect to the database \(place): \(detail) — \(Self.hint(for: detail))"
        case .connectionLost:
            return "lost the connection to the database \(place): \(detail) — is PostgreSQL still running? try again"
        default:
            return nil
        }
    }

    /// What to try, from the words of libpq's message.
    private static func hint(for message: String) -> String {
        let text = message.lowercased()
        let fix = "set --database-url or LIAISON_DATABASE_URL"
        if text.contains("password") || text.contains("authentication") || text.contains("role") {
            return "check the user and password of the URL, or \(fix)"
        }
        if text.contains("database") && text.contains("does not exist") {
            return "create the database (createdb) or name another one: \(fix)"
        }
        if text.contains("translate host name") || text.contains("unknown host") {
            return "check the host name, or \(fix)"
        }
        return "is PostgreSQL running there? \(fix)"
    }

    /// `url` with its password, in a URI (`user:secret@`, `?password=`) or a `key=value` string,
    /// replaced by `***`. (liaisond has the same three patterns for its start-up messages.)
    static func redacted(_ url: String) -> String {
        let patterns = [
            (#"(://[^/:@]*):[^@/]*@"#, "$1:***@"),
            (#"([?&]password=)[^&]*"#, "$1***"),
            (#"(^|\s)password\s*=\s*('([^'\\]|\\.)*'|\S+)"#, "$1password=***"),
        ]
        return patterns.reduce(url) { text, pattern in
            text.replacingOccurrences(of: pattern.0, with: pattern.1, options: .regularExpression)
        }
    }
}
