import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import TestSupport
import Testing

/// Durable consumers: creating, resuming, resetting and progress of `SUB … durable=<name>`.
@Suite struct ConsumerTests {
    /// A migrated database with the accounts `unhcr` and `ohchr` and one message per topic given,
    /// each in its own batch (so each has its own publication time), and shorthands for the calls
    /// the tests repeat.
    struct Fixture {
        let db: TestDatabase
        let connection: Connection
        let messages: [Message]
        let consumers = Consumers()

        init(topics: [String] = ["hq.ohchr.guidance-note", "field.mm.sittwe.report", "hq.undp.action-plan"]) throws {
            self.db = try TestDatabase.create()
            self.connection = try self.db.connect()
            try Accounts().add(Account(name: "unhcr", kind: .entity), on: self.connection)
            try Accounts().add(Account(name: "ohchr", kind: .entity), on: self.connection)
            for topic in topics {
                try Self.publish(topic, on: self.connection)
            }
            self.messages = try MessageLog().read(after: 0, matching: nil, limit: 100, on: self.connection)
        }

        static func publish(_ topic: String, headers: [(String, String)] = [], on connection: Connection) throws {
            var h = Headers()
            for (key, value) in headers { try h.set(key, value) }
            let message = NewMessage(topic: try Topic(topic), account: "ohchr", headers: h, payload: Array(topic.utf8))
            _ = try MessageLog().append([message], on: connection)
        }

        func seq(_ index: Int) -> Int64 { self.messages[index].seq }

        static func settings(_ pattern: String = "hq.>", ack: AckMode = .explicit) throws -> ConsumerSettings {
            ConsumerSettings(pattern: try TopicPattern(pattern), ackMode: ack)
        }

        @discardableResult
        func open(
            _ name: String = "d",
            account: String = "unhcr",
            settings: ConsumerSettings? = nil,
            start: StartPosition? = .all,
            reset: Bool = false
        ) throws -> ConsumerInfo {
            try self.consumers.open(
                account: account,
                name: name,
                settings: try settings ?? Self.settings(),
                start: start,
                reset: reset,
                on: self.connection
            )
        }

        /// Records progress as the daemon does; `nil` leaves that seq where it is.
        func progress(_ name: String = "d", ackFloor: Int64?, deliveredSeq: Int64?) throws {
            try self.consumers.record(
                [
                    ConsumerProgress(
                        account: "unhcr",
                        name: name,
                        ackFloor: ackFloor ?? 0,
                        deliveredSeq: deliveredSeq ?? 0
                    )
                ],
                on: self.connection
            )
        }

        /// Dead-letters message `index` for the consumer.
        func deadLetter(
            _ name: String = "d",
            index: Int,
            account: String = "unhcr",
            deliveries: Int = 5,
            reason: String = "max_deliver 5 reached"
        ) throws {
            try self.consumers.deadLetter(
                account: account,
                name: name,
                seq: self.seq(index),
                topic: self.messages[index].topic.value,
                deliveries: deliveries,
                reason: reason,
                on: self.connection
            )
        }

        func find(_ name: String = "d", account: String = "unhcr") throws -> ConsumerInfo? {
            try self.consumers.find(account: account, name: name, on: self.connection)
        }

        func deadLetters(account: String? = nil, name: String? = nil, limit: Int = 10) throws -> [DeadLetter] {
            try self.consumers.deadLetters(account: account, name: name, limit: limit, on: self.connection)
        }
    }

    enum Start: String, CaseIterable {
        case none, new, all, seq, time
    }

    @Test(arguments: Start.allCases)
    func aNewConsumerStartsWhereFromSays(_ start: Start) throws {
        let f = try Fixture()
        defer { f.db.drop() }
        let position: StartPosition?
        let expectedFloor: Int64
        switch start {
        case .none: (position, expectedFloor) = (nil, f.seq(2))
        case .new: (position, expectedFloor) = (.new, f.seq(2))
        case .all: (position, expectedFloor) = (.all, 0)
        case .seq: (position, expectedFloor) = (.seq(f.seq(1)), f.seq(1) - 1)
        case .time: (position, expectedFloor) = (.time(f.messages[1].publishedAt), f.seq(1) - 1)
        }
        let info = try f.open("hq-feed", start: position)
        #expect(info.account == "unhcr")
        #expect(info.name == "hq-feed")
        #expect(info.ackFloor == expectedFloor)
        #expect(info.deliveredSeq == expectedFloor)
        #expect(info.settings == (try Fixture.settings()))
        #expect(info.lastAckAt == nil)
        #expect(info.lastDeliveryAt == nil)
        #expect(try f.find("hq-feed") == info)
    }

    @Test func resumingKeepsTheFloorAndTakesTheNewPacing() throws {
        let f = try Fixture()
        defer { f.db.drop() }
        try f.open()
        try f.progress(ackFloor: f.seq(0), deliveredSeq: f.seq(1))
        let paced = ConsumerSettings(
            pattern: try TopicPattern("hq.>"),
            ackMode: .auto,
            ackWaitMilliseconds: 5_000,
            maxDeliver: 2,
            maxInflight: 10
        )
        let resumed = try f.open(settings: paced, start: nil)
        #expect(resumed.ackFloor == f.seq(0))
        #expect(resumed.deliveredSeq == f.seq(1))
        #expect(resumed.settings == paced)
    }

    @Test func anExistingConsumerRefusesFromOrAnotherPatternWithoutReset() throws {
        let f = try Fixture()
        defer { f.db.drop() }
        try f.open()
        let fromError = #expect(throws: StoreError.self) { try f.open(start: .new) }
        #expect(fromError?.code == .conflict)
        #expect(fromError?.message == "durable d exists: from= needs reset=true")
        let patternError = #expect(throws: StoreError.self) {
            try f.open(settings: try Fixture.settings("field.>"), start: nil)
        }
        #expect(patternError?.code == .conflict)
        #expect(patternError?.message.hasPrefix("durable d follows hq.>;") == true)
        #expect(patternError?.message.contains("reset=true") == true)
        // Nothing changed.
        let info = try #require(try f.find())
        #expect(info.ackFloor == 0)
        #expect(info.settings.pattern == (try TopicPattern("hq.>")))
    }

    @Test func resetMovesTheFloorReplacesSettingsAndKeepsDeadLetters() throws {
        let f = try Fixture()
        defer { f.db.drop() }
        try f.open()
        try f.progress(ackFloor: f.seq(2), deliveredSeq: f.seq(2))
        try f.deadLetter(index: 0)

        let fieldAuto = try Fixture.settings("field.>", ack: .auto)
        let toSeq = try f.open(settings: fieldAuto, start: .seq(f.seq(1)), reset: true)
        #expect(toSeq.ackFloor == f.seq(1) - 1)
        #expect(toSeq.deliveredSeq == f.seq(1) - 1)
        #expect(toSeq.settings == fieldAuto)
        // reset without from= goes to the head.
        let toHead = try f.open(settings: try Fixture.settings("field.>"), start: nil, reset: true)
        #expect(toHead.ackFloor == f.seq(2))
        #expect(try f.deadLetters().count == 1)
    }

    /// Found by an adversarial run: a durable opened ack=auto, read past its confirmed floor, then
    /// resumed with ack=explicit skipped everything delivered but never confirmed.
    @Test func switchingFromAutoToExplicitResumesAtTheConfirmedFloor() throws {
        let f = try Fixture()
        defer { f.db.drop() }
        try f.open(settings: try Fixture.settings(ack: .auto))
        try f.progress(ackFloor: 2, deliveredSeq: 5)
        let switched = try f.open(settings: try Fixture.settings(ack: .explicit), start: nil)
        #expect(switched.settings.ackMode == .explicit)
        #expect(switched.ackFloor == 2)
        // Nothing past the floor counts as delivered (and so, for explicit, as acknowledged).
        #expect(switched.deliveredSeq == 2)
        // The other way round loses nothing: the floor is what was acknowledged.
        try f.progress(ackFloor: 3, deliveredSeq: 6)
        let back = try f.open(settings: try Fixture.settings(ack: .auto), start: nil)
        #expect(back.ackFloor == 3 && back.deliveredSeq == 6)
    }

    @Test func progressOnlyMovesForwardAndStampsWhenItMoves() throws {
        let f = try Fixture()
        defer { f.db.drop() }
        try f.open()
        try f.progress(ackFloor: nil, deliveredSeq: 7)
        var info = try #require(try f.find())
        #expect(info.deliveredSeq == 7)
        #expect(info.ackFloor == 0)
        #expect(info.lastAckAt == nil)
        let delivered = try #require(info.lastDeliveryAt)

        try f.progress(ackFloor: 5, deliveredSeq: 3)
        info = try #require(try f.find())
        #expect(info.ackFloor == 5)
        #expect(info.deliveredSeq == 7)
        #expect(info.lastDeliveryAt == delivered)
        let acked = try #require(info.lastAckAt)

        try f.progress(ackFloor: 2, deliveredSeq: nil)
        info = try #require(try f.find())
        #expect(info.ackFloor == 5)
        #expect(info.lastAckAt == acked)

        // Progress of a consumer an admin deleted meanwhile is dropped, not an error, and creates nothing.
        try f.progress("gone", ackFloor: 1, deliveredSeq: 1)
        #expect(try f.find("gone") == nil)
    }

    @Test func listFindAndPendingCount() throws {
        let f = try Fixture()
        defer { f.db.drop() }
        let hq = try f.open("hq")
        let field = try f.open("field", settings: try Fixture.settings("field.*.*.report"))
        let other = try f.open("all", account: "ohchr", settings: try Fixture.settings("hq.undp.action-plan"))

        #expect(try f.consumers.list(account: nil, on: f.connection).map(\.name) == ["all", "field", "hq"])
        #expect(try f.consumers.list(account: "unhcr", on: f.connection) == [field, hq])
        #expect(try f.consumers.list(account: "nobody", on: f.connection).isEmpty)
        #expect(try f.find("hq", account: "ohchr") == nil)

        #expect(try f.consumers.pendingCount(hq, on: f.connection) == 2)
        #expect(try f.consumers.pendingCount(field, on: f.connection) == 1)
        #expect(try f.consumers.pendingCount(other, on: f.connection) == 1)
        try f.progress("hq", ackFloor: f.seq(0), deliveredSeq: nil)
        let moved = try #require(try f.find("hq"))
        #expect(try f.consumers.pendingCount(moved, on: f.connection) == 1)
    }

    @Test func adminResetAndDelete() throws {
        let f = try Fixture()
        defer { f.db.drop() }
        let consumers = f.consumers
        try f.open(start: .new)
        #expect(try consumers.reset(account: "unhcr", name: "d", to: .all, on: f.connection).ackFloor == 0)
        let toSeq = try consumers.reset(account: "unhcr", name: "d", to: .seq(f.seq(2)), on: f.connection)
        #expect(toSeq.ackFloor == f.seq(2) - 1)
        #expect(toSeq.deliveredSeq == f.seq(2) - 1)
        let toTime = try consumers.reset(
            account: "unhcr",
            name: "d",
            to: .time(f.messages[1].publishedAt),
            on: f.connection
        )
        #expect(toTime.ackFloor == f.seq(1) - 1)
        #expect(try consumers.reset(account: "unhcr", name: "d", to: .new, on: f.connection).ackFloor == f.seq(2))
        let missingReset = #expect(throws: StoreError.self) {
            try consumers.reset(account: "unhcr", name: "gone", to: .all, on: f.connection)
        }
        #expect(missingReset?.code == .notFound)

        try f.deadLetter(index: 0)
        try consumers.delete(account: "unhcr", name: "d", on: f.connection)
        #expect(try f.find() == nil)
        #expect(try f.deadLetters().isEmpty)
        let missingDelete = #expect(throws: StoreError.self) {
            try consumers.delete(account: "unhcr", name: "d", on: f.connection)
        }
        #expect(missingDelete?.code == .notFound)
    }

    @Test func badSettingsAndUnknownAccountsAreRefused() throws {
        let f = try Fixture()
        defer { f.db.drop() }
        var bad = try Fixture.settings()
        bad.maxDeliver = 0
        let invalid = #expect(throws: StoreError.self) { try f.open(settings: bad) }
        #expect(invalid?.code == .invalid)
        let unknown = #expect(throws: StoreError.self) { try f.open(account: "nobody") }
        #expect(unknown?.code == .notFound)
        #expect(unknown?.message == "account nobody does not exist")
    }
}
