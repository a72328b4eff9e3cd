import ArgumentParser
import Foundation
import LiaisonCore
import LiaisonStore

/// The filters of `messages list` and `messages export`: account, topic pattern, time, seq, class.
struct MessageFilterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only messages published by this account.", valueName: "name"))
    var account: String?

    @Option(
        help: ArgumentHelp(
            "Only topics this pattern selects, e.g. 'field.*.*.early-warning' or 'hq.>'.",
            valueName: "pattern"
        )
    )
    var topic: String?

    @Option(
        help: ArgumentHelp("Published at or after this RFC 3339 time, e.g. 2025-03-01T00:00:00Z.", valueName: "time")
    )
    var since: String?

    @Option(help: ArgumentHelp("Published before this RFC 3339 time.", valueName: "time"))
    var until: String?

    @Option(help: ArgumentHelp("Only seq >= N.", valueName: "n"))
    var fromSeq: Int64?

    @Option(help: ArgumentHelp("Only seq <= N.", valueName: "n"))
    var toSeq: Int64?

    @Option(
        name: .customLong("class"),
        help: ArgumentHelp(
            "Only messages of this class: public, internal (also when absent), confidential, strictly-confidential.",
            valueName: "level"
        )
    )
    var classification: Classification?

    /// The filters as a query (default limit and order: the command sets those).
    ///
    /// - Throws: `ValidationError` for a bad pattern or time.
    func makeQuery() throws -> MessageQuery {
        var query = MessageQuery()
        query.account = self.account
        if let topic = self.topic {
            do {
                query.pattern = try TopicPattern(topic)
            } catch {
                throw ValidationError("--topic: \(error.message)")
            }
        }
        query.since = try self.since.map { try Self.time($0, "--since") }
        query.until = try self.until.map { try Self.time($0, "--until") }
        query.fromSeq = self.fromSeq
        query.toSeq = self.toSeq
        query.classification = self.classification
        return query
    }

    /// Parses an RFC 3339 time option.
    static func time(_ text: String, _ option: String) throws -> Date {
        guard let date = RFC3339.parse(text) else {
            throw ValidationError("\(option) must be an RFC 3339 time such as 2025-03-01T12:00:00Z, got '\(text)'")
        }
        return date
    }
}
