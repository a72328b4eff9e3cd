/// One `MSG` frame as received:
/// `MSG <sid> <seq> <topic> <account> <published RFC3339 UTC> <size> [k=v …]`, then the payload.
///
/// Fields keep the text the server sent, so tests can compare them byte for byte; parse
/// ``publishedAt`` with `RFC3339.parse` when a date is needed.
public struct ReceivedMessage: Sendable, Equatable {
    /// The subscription the message was delivered for.
    public var sid: String
    /// The message's position in the log.
    public var seq: Int64
    /// The topic it was published to.
    public var topic: String
    /// The account that published it.
    public var account: String
    /// The publication time as sent: RFC 3339, UTC.
    public var publishedAt: String
    /// The headers, by key.
    public var headers: [String: String]
    /// The headers as sent: `k=v` tokens joined by single spaces; empty when there are none.
    public var headerText: String
    /// The payload bytes (binary-safe: may hold CR, LF and NUL).
    public var payload: [UInt8]

    /// Creates a message.
    ///
    /// - Parameters:
    ///   - sid: The subscription id.
    ///   - seq: The seq.
    ///   - topic: The topic.
    ///   - account: The publishing account.
    ///   - publishedAt: The publication time, RFC 3339.
    ///   - headers: The headers by key.
    ///   - headerText: The headers as sent.
    ///   - payload: The payload bytes.
    public init(
        sid: String,
        seq: Int64,
        topic: String,
        account: String,
        publishedAt: String,
        headers: [String: String],
        headerText: String,
        payload: [UInt8]
    ) {
        self.sid = sid
        self.seq = seq
        self.topic = topic
        self.account = account
        self.publishedAt = publishedAt
        self.headers = headers
        self.headerText = headerText
        self.payload = payload
    }

    /// The payload decoded as UTF-8, invalid sequences replaced.
    public var text: String {
        String(decoding: self.payload, as: UTF8.self)
    }
}
