extension ClientCommand {
    /// Parses the arguments of `SUB <sid> <pattern> [from=…] [durable=…] [ack=…] [k=v …]`.
    ///
    /// Options are `key=value` tokens in any order, validated like headers (so a repeated key is
    /// a 400); keys this version does not know are kept in ``SubscribeRequest/extra``.
    static func parseSubscribe(arguments tokens: inout TokenCursor) throws(ProtocolError) -> SubscribeRequest {
        guard let sid = tokens.next(), let patternText = tokens.next() else {
            throw .badRequest(
                "usage: SUB <sid> <pattern> [from=new|all|<seq>|<time>] [durable=<name>] [ack=auto|explicit]"
                    + " [ack_wait=<ms>] [max_deliver=<n>] [max_inflight=<n>] [reset=true]"
            )
        }
        var request = SubscribeRequest(sid: try validSid(sid), pattern: try TopicPattern(patternText))
        let options = try Headers(parsing: tokens)
        for (key, value) in options {
            switch key {
            case "from":
                request.start = try startPosition(value[...])
                request.startIsExplicit = true
            case "ack_wait":
                request.ackWaitMilliseconds = try bounded(key, value, 1...86_400_000)
            case "max_deliver":
                request.maxDeliver = Int(try bounded(key, value, 1...1000))
            case "max_inflight":
                request.maxInflight = Int(try bounded(key, value, 1...100_000))
            case "reset":
                guard value == "true" || value == "false" else {
                    throw .badRequest("reset must be true or false, got \(Quote.text(value[...]))")
                }
                request.reset = value == "true"
            case "durable":
                guard Names.isValidDurable(value) else {
                    throw .badRequest("durable \(Quote.text(value[...])) must match [A-Za-z0-9_-]{1,64}")
                }
                request.durable = value
            case "ack":
                guard let mode = AckMode(rawValue: value) else {
                    throw .badRequest("ack must be auto or explicit, got \(Quote.text(value[...]))")
                }
                request.ack = mode
            default:
                try request.extra.set(key, value)
            }
        }
        return request
    }

    /// Parses a decimal option value within `range`.
    private static func bounded(
        _ key: String,
        _ value: String,
        _ range: ClosedRange<Int64>
    ) throws(ProtocolError)
        -> Int64
    {
        guard let number = ASCII.parseDecimal(value[...]), range.contains(number) else {
            throw .badRequest("\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// Parses the value of `from=`: `new`, `all`, a seq (`0` meaning all) or an RFC 3339 time.
    private static func startPosition(_ value: Substring) throws(ProtocolError) -> StartPosition {
        switch value {
        case "new":
            return .new
        case "all":
            return .all
        default:
            break
        }
        if value.utf8.allSatisfy(ASCII.isDigit) {
            guard let seq = ASCII.parseDecimal(value) else {
                throw .badRequest("from=\(Quote.text(value)) is not a seq from 0 to \(Int64.max)")
            }
            return seq == 0 ? .all : .seq(seq)
        }
        guard let date = RFC3339.parse(value) else {
            throw .badRequest(
                "from=\(Quote.text(value)) must be new, all, a seq or an RFC 3339 time like 2026-11-29T10:00:00Z"
            )
        }
        return .time(date)
    }
}
