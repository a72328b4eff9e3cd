import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import TestSupport
import Testing

@Suite struct ClassificationTests {
    /// Four messages, one per level, the `internal` one without a `class` header.
    private static func seed(on c: Connection) throws -> [Int64] {
        var batch: [NewMessage] = []
        for level in Classification.allCases {
            var headers = Headers()
            if level != .internal { try headers.set("class", level.rawValue) }
            batch.append(
                NewMessage(
                    topic: try Topic("hq.ohchr.\(level.rawValue)"),
                    account: "ohchr",
                    headers: headers,
                    payload: [1]
                )
            )
        }
        return try #require(try MessageLog().append(batch, on: c)).seqs
    }

    private static func classes(_ messages: [Message]) -> [Classification] {
        messages.map { Classification(rawValue: $0.headers["class"] ?? "internal") ?? .strictlyConfidential }
    }

    @Test(arguments: Classification.allCases)
    func readersSeeOnlyWhatTheyAreClearedFor(clearance: Classification) throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let seqs = try Self.seed(on: c)
        let log = MessageLog()
        let cleared = Classification.allCases.filter { $0 <= clearance }

        let read = try log.read(after: 0, matching: nil, limit: 10, maxClassification: clearance, on: c)
        #expect(Self.classes(read) == cleared)
        let pattern = try TopicPattern("hq.ohchr.*")
        #expect(
            Self.classes(try log.read(after: 0, matching: pattern, limit: 10, maxClassification: clearance, on: c))
                == cleared
        )
        #expect(Self.classes(try log.fetch(seqs: seqs, maxClassification: clearance, on: c)) == cleared)
        let listed = try log.list(MessageQuery(maxClassification: clearance), on: c)
        #expect(Self.classes(listed) == cleared)
    }

    @Test func defaultsReadEverythingAndListFiltersExactly() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let seqs = try Self.seed(on: c)
        let log = MessageLog()
        #expect(try log.read(after: 0, matching: nil, limit: 10, on: c).count == 4)
        #expect(try log.fetch(seqs: seqs, on: c).count == 4)
        let internalOnly = try log.list(MessageQuery(classification: .internal), on: c)
        #expect(internalOnly.map(\.topic.value) == ["hq.ohchr.internal"])
        let confidential = try log.list(MessageQuery(classification: .confidential), on: c)
        #expect(confidential.map(\.seq) == [seqs[2]])
        #expect(try log.list(MessageQuery(maxClassification: .public, classification: .confidential), on: c).isEmpty)
    }

    @Test func flashLookAheadRespectsClearance() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        var batch: [NewMessage] = []
        for level in [Classification.public, .confidential] {
            var headers = Headers()
            try headers.set("prio", "flash")
            try headers.set("class", level.rawValue)
            batch.append(NewMessage(topic: try Topic("hq.dppa.alert"), account: "dppa", headers: headers, payload: [1]))
        }
        _ = try MessageLog().append(batch, on: c)
        let pattern = try TopicPattern("hq.>")
        #expect(try MessageLog().flash(after: 0, matching: pattern, limit: 10, on: c).count == 2)
        let cleared = try MessageLog().flash(
            after: 0,
            matching: pattern,
            limit: 10,
            maxClassification: .internal,
            on: c
        )
        #expect(Self.classes(cleared) == [.public])
    }
}
