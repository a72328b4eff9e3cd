/// The text of the control lines the server sends, without their line ending.
///
/// Keeping every reply shape here means the protocol's text lives in one module that tests
/// and docs/PROTOCOL.md can be checked against.
public enum ServerLine {
    /// The protocol version written in the greeting.
    public static let protocolVersion = 1

    /// The greeting sent on connect: `LIAISON 1 node=<node> max_payload=<bytes> [k=v …]`.
    ///
    /// - Parameters:
    ///   - node: The daemon's node name; must be a single token without spaces.
    ///   - maxPayload: The largest payload a `PUB` may declare, in bytes.
    ///   - extra: Further `key=value` pairs, written in order (for example a server version).
    /// - Returns: The line.
    public static func greeting(node: String, maxPayload: Int, extra: [(String, String)] = []) -> String {
        var line = "LIAISON \(protocolVersion) node=\(node) max_payload=\(maxPayload)"
        for (key, value) in extra {
            line += " \(key)=\(value)"
        }
        return line
    }

    /// The header line of a `MSG` frame: `MSG <sid> <seq> <topic> <account> <time> <size> [k=v …]`.
    ///
    /// `time` is ``Message/publishedAt`` in UTC with microseconds (``RFC3339/format(_:)``) and
    /// `size` the payload length in bytes; the payload and a line feed follow the line.
    ///
    /// - Parameters:
    ///   - sid: The subscription the message is delivered for.
    ///   - message: The message.
    /// - Returns: The line.
    public static func messageHeader(sid: String, message: Message) -> String {
        var line = "MSG "
        line.reserveCapacity(96 + message.topic.value.utf8.count)
        line += sid
        line += " "
        line += String(message.seq)
        line += " "
        line += message.topic.value
        line += " "
        line += message.account
        line += " "
        line += RFC3339.format(message.publishedAt)
        line += " "
        line += String(message.payload.count)
        if !message.headers.isEmpty {
            line += " "
            line += message.headers.wireText
        }
        return line
    }

    /// The reply to `AUTH`: `OK AUTH <account>`.
    public static func authenticated(account: String) -> String {
        "OK AUTH \(account)"
    }

    /// The reply to `PUB` once the message has committed: `OK PUB <seq>`, or `OK PUB <seq> DUP`
    /// when its `id` repeated one seen within the dedupe window and nothing new was stored.
    ///
    /// - Parameters:
    ///   - seq: The message's seq (for a duplicate, the first one's).
    ///   - duplicate: Whether the publish was a duplicate.
    public static func published(seq: Int64, duplicate: Bool = false) -> String {
        duplicate ? "OK PUB \(seq) DUP" : "OK PUB \(seq)"
    }

    /// The reply to `SUB`: `OK SUB <sid>`.
    public static func subscribed(sid: String) -> String {
        "OK SUB \(sid)"
    }

    /// The reply to `ACK`: `OK ACK <seq>`.
    public static func acknowledged(seq: Int64) -> String {
        "OK ACK \(seq)"
    }

    /// The reply to `UNSUB`: `OK UNSUB <sid>`.
    public static func unsubscribed(sid: String) -> String {
        "OK UNSUB \(sid)"
    }

    /// The reply to `QUIT`, after which the server closes: `OK BYE`.
    public static let bye = "OK BYE"

    /// The reply to a client `PING`.
    public static let pong = "PONG"

    /// The keepalive probe the server sends; the client answers `PONG`.
    public static let ping = "PING"
}
