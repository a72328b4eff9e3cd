/// One command a client sends: the parsed form of a control line.
///
/// The grammar is in docs/PROTOCOL.md. Parsing scans the line's UTF-8 bytes once to split it
/// and once to check its characters, and copies only what the command keeps (names, topic,
/// header values); verbs are matched case-insensitively without building a string.
public enum ClientCommand: Sendable, Equatable {
    /// `AUTH <account> <token>`: authenticate the connection.
    case auth(account: String, token: String)
    /// `PUB <topic> <size> [k=v …]`: publish; the payload follows the line.
    case publish(PublishRequest)
    /// `SUB <sid> <pattern> [options]`: subscribe.
    case subscribe(SubscribeRequest)
    /// `ACK <sid> <seq>`: acknowledge one message of an `ack=explicit` subscription.
    case ack(sid: String, seq: Int64)
    /// `NAK <sid> <seq> [delay=<ms>]`: redeliver an unacknowledged message after `delay`
    /// milliseconds (0 when absent) instead of waiting for the ack wait.
    case nak(sid: String, seq: Int64, delayMilliseconds: Int64)
    /// `UNSUB <sid>`: end a subscription.
    case unsubscribe(sid: String)
    /// `PING`: the server answers `PONG`.
    case ping
    /// `PONG`: the answer to a server `PING`; gets no reply.
    case pong
    /// `QUIT`: the server answers `OK BYE` and closes.
    case quit
    /// `RECEIPTS <seq>`: who received and acknowledged message `seq` (its publisher or an admin).
    case receipts(seq: Int64)

    /// The verb, upper-case, as written in replies and logs.
    public var verb: String {
        switch self {
        case .auth: "AUTH"
        case .publish: "PUB"
        case .subscribe: "SUB"
        case .ack: "ACK"
        case .nak: "NAK"
        case .unsubscribe: "UNSUB"
        case .ping: "PING"
        case .pong: "PONG"
        case .quit: "QUIT"
        case .receipts: "RECEIPTS"
        }
    }

    /// Parses one control line, without its line ending. For `PUB` the payload is not part of it.
    ///
    /// - Parameter line: The line; tokens are separated by one or more spaces.
    /// - Returns: The command.
    /// - Throws: ``ProtocolError`` 400 when the line is empty, holds a control character (a tab
    ///   included), has an unknown verb, too few or too many arguments, or an invalid name, topic,
    ///   pattern, number, option or header. A `PUB` whose size field is missing or not a decimal of
    ///   at most 19 digits throws a 400 with `closesConnection` set, and one whose size does not
    ///   fit an `Int64` a 413 with `closesConnection` set, as ``declaredPayloadSize(ofLine:maxPayload:)``
    ///   does.
    public static func parse(_ line: Substring) throws(ProtocolError) -> ClientCommand {
        var tokens = TokenCursor(line)
        guard let verb = tokens.next() else {
            throw .badRequest("empty line")
        }
        // PUB first: it is the hot path, and it must check its size field before anything else
        // so that a framing error is never masked by a lesser one.
        if ASCII.equalsIgnoringCase(verb, "PUB") {
            return .publish(try parsePublish(line, arguments: &tokens))
        }
        try checkCharacters(line)
        if ASCII.equalsIgnoringCase(verb, "SUB") {
            return .subscribe(try parseSubscribe(arguments: &tokens))
        }
        if ASCII.equalsIgnoringCase(verb, "ACK") {
            let (sid, seqText) = try arguments(&tokens, "ACK <sid> <seq>")
            return .ack(sid: try validSid(sid), seq: try validSeq(seqText))
        }
        if ASCII.equalsIgnoringCase(verb, "NAK") {
            guard let sid = tokens.next(), let seqText = tokens.next() else {
                throw .badRequest("usage: NAK <sid> <seq> [delay=<ms>]")
            }
            var delay: Int64 = 0
            if let option = tokens.next() {
                guard option.hasPrefix("delay="), tokens.isAtEnd,
                    let value = ASCII.parseDecimal(option.dropFirst("delay=".count)), value <= 86_400_000
                else {
                    throw .badRequest("usage: NAK <sid> <seq> [delay=<ms>] with delay from 0 to 86400000")
                }
                delay = value
            }
            return .nak(sid: try validSid(sid), seq: try validSeq(seqText), delayMilliseconds: delay)
        }
        if ASCII.equalsIgnoringCase(verb, "PING") {
            try noArguments(&tokens, "PING")
            return .ping
        }
        if ASCII.equalsIgnoringCase(verb, "PONG") {
            try noArguments(&tokens, "PONG")
            return .pong
        }
        if ASCII.equalsIgnoringCase(verb, "UNSUB") {
            guard let sid = tokens.next(), tokens.isAtEnd else {
                throw .badRequest("usage: UNSUB <sid>")
            }
            return .unsubscribe(sid: try validSid(sid))
        }
        if ASCII.equalsIgnoringCase(verb, "AUTH") {
            let (account, token) = try arguments(&tokens, "AUTH <account> <token>")
            guard Names.isValidAccount(account) else {
                throw .badRequest("account \(Quote.text(account)) must match [a-z0-9][a-z0-9_.-]{0,63}")
            }
            return .auth(account: String(account), token: String(token))
        }
        if ASCII.equalsIgnoringCase(verb, "RECEIPTS") {
            guard let seqText = tokens.next(), tokens.isAtEnd else {
                throw .badRequest("usage: RECEIPTS <seq>")
            }
            return .receipts(seq: try validSeq(seqText))
        }
        if ASCII.equalsIgnoringCase(verb, "QUIT") {
            try noArguments(&tokens, "QUIT")
            return .quit
        }
        throw .badRequest("unknown command \(Quote.text(verb))")
    }

    /// Rejects control characters (C0, DEL and C1), so that every token is printable text.
    ///
    /// - Throws: ``ProtocolError`` 400 naming the first offending character.
    static func checkCharacters(_ line: Substring) throws(ProtocolError) {
        var previous: UInt8 = 0
        for byte in line.utf8 {
            if byte == ASCII.tab {
                throw .badRequest("tab in line: tokens are separated by spaces")
            }
            if ASCII.isControl(byte) {
                throw .badRequest("control character \(hex(byte)) in line")
            }
            // 0xC2 0x80...0x9F is the UTF-8 form of the C1 controls U+0080...U+009F.
            if previous == 0xC2 && (0x80...0x9F).contains(byte) {
                throw .badRequest("control character U+00\(hex(byte).dropFirst(2)) in line")
            }
            previous = byte
        }
    }

    /// `0x0D`-style text of a byte.
    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return byte < 0x10 ? "0x0\(digits)" : "0x\(digits)"
    }

    private static func arguments(
        _ tokens: inout TokenCursor,
        _ usage: String
    ) throws(ProtocolError) -> (Substring, Substring) {
        guard let first = tokens.next(), let second = tokens.next(), tokens.isAtEnd else {
            throw .badRequest("usage: \(usage)")
        }
        return (first, second)
    }

    private static func noArguments(_ tokens: inout TokenCursor, _ verb: String) throws(ProtocolError) {
        guard tokens.isAtEnd else {
            throw .badRequest("\(verb) takes no arguments")
        }
    }

    static func validSid(_ sid: Substring) throws(ProtocolError) -> String {
        guard Names.isValidSid(sid) else {
            throw .badRequest("sid \(Quote.text(sid)) must match [A-Za-z0-9_-]{1,64}")
        }
        return String(sid)
    }

    private static func validSeq(_ text: Substring) throws(ProtocolError) -> Int64 {
        guard let seq = ASCII.parseDecimal(text), seq >= 1 else {
            throw .badRequest("seq \(Quote.text(text)) must be a decimal from 1 to \(Int64.max)")
        }
        return seq
    }
}
