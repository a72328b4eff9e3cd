import Foundation
import Postgres
import Testing

/// LISTEN / NOTIFY between two connections.
@Suite(.temporaryDatabase)
struct NotifyTests {
    @Test
    func notificationCrossesConnections() throws {
        let listener = try TemporaryDatabase.connect()
        let sender = try TemporaryDatabase.connect()
        let channel = "liaison.messages \"quoted\""
        try listener.listen(channel)
        try sender.notify(channel, "seq=42")
        try sender.notify("elsewhere", "ignored")
        let received = try listener.waitForNotifications(timeoutMilliseconds: 5_000)
        #expect(received == [Connection.Notification(channel: channel, payload: "seq=42", pid: sender.backendPID)])
    }

    @Test
    func notificationsInATransactionArriveAtCommit() throws {
        let listener = try TemporaryDatabase.connect()
        let sender = try TemporaryDatabase.connect()
        try listener.listen("batch")
        try sender.transaction { transaction in
            try transaction.notify("batch", "1")
            try transaction.notify("batch", "2")
            #expect(try listener.waitForNotifications(timeoutMilliseconds: 100).isEmpty)
        }
        var payloads: [String] = []
        while payloads.count < 2 {
            let batch = try listener.waitForNotifications(timeoutMilliseconds: 5_000)
            try #require(!batch.isEmpty)
            payloads += batch.map(\.payload)
        }
        #expect(payloads == ["1", "2"])
    }

    @Test
    func timeoutReturnsEmptyAfterRoughlyTheTimeout() throws {
        let listener = try TemporaryDatabase.connect()
        try listener.listen("quiet")
        let started = ContinuousClock.now
        let received = try listener.waitForNotifications(timeoutMilliseconds: 200)
        let elapsed = ContinuousClock.now - started
        #expect(received.isEmpty)
        #expect(elapsed >= .milliseconds(190))
        #expect(elapsed < .seconds(2))
        #expect(try listener.waitForNotifications(timeoutMilliseconds: 0).isEmpty)
    }

    @Test
    func unlistenStopsDelivery() throws {
        let listener = try TemporaryDatabase.connect()
        let sender = try TemporaryDatabase.connect()
        try listener.listen("gone")
        try listener.unlisten("gone")
        try sender.notify("gone", "x")
        #expect(try listener.waitForNotifications(timeoutMilliseconds: 200).isEmpty)
    }

    @Test
    func quoteIdentifierDoublesQuotes() throws {
        let connection = try TemporaryDatabase.connect()
        #expect(try connection.quoteIdentifier(#"a"b"#) == #""a""b""#)
    }
}
