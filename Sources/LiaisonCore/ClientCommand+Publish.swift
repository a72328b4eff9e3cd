extension ClientCommand {
    /// The payload size a `PUB` line declares, for the framer; `nil` for every other verb.
    ///
    /// Only the verb and the third token are looked at, so a `PUB` line with a bad topic or bad
    /// headers still yields its size: the framer skips the payload, keeping the stream in sync,
    /// and then reports the line's error without closing the connection.
    ///
    /// - Parameters:
    ///   - line: The control line without its line ending.
    ///   - maxPayload: The largest payload the server accepts, in bytes.
    /// - Returns: The size in bytes (0...`maxPayload`) for a `PUB` line, otherwise `nil`.
    /// - Throws: A ``ProtocolError`` with `closesConnection` set: 400 when the size field is
    ///   missing, not a decimal, negative or longer than 19 digits; 413 when the size exceeds
    ///   `maxPayload`.
    public static func declaredPayloadSize(ofLine line: Substring, maxPayload: Int) throws(ProtocolError) -> Int? {
        var tokens = TokenCursor(line)
        guard let verb = tokens.next(), ASCII.equalsIgnoringCase(verb, "PUB") else {
            return nil
        }
        _ = tokens.next()
        let size = try payloadSize(tokens.next())
        guard size <= maxPayload else {
            throw payloadTooLarge(size: size, maxPayload: maxPayload)
        }
        return size
    }

    /// The fatal 413 for a declared size above the server's limit.
    ///
    /// - Parameters:
    ///   - size: The declared size in bytes.
    ///   - maxPayload: The limit in bytes.
    /// - Returns: The error to throw.
    public static func payloadTooLarge(size: Int, maxPayload: Int) -> ProtocolError {
        ProtocolError(
            .payloadTooLarge,
            "payload of \(size) bytes exceeds max_payload \(maxPayload)",
            closesConnection: true
        )
    }

    /// Parses the arguments of `PUB <topic> <size> [k=v …]`, size field first.
    static func parsePublish(
        _ line: Substring,
        arguments tokens: inout TokenCursor
    ) throws(ProtocolError)
        -> PublishRequest
    {
        let topicToken = tokens.next()
        let size = try payloadSize(tokens.next())
        try checkCharacters(line)
        guard let topicToken else {
            throw .badRequest("usage: PUB <topic> <size> [key=value ...]")
        }
        let topic = try Topic(topicToken)
        let headers = try Headers(parsing: tokens)
        return PublishRequest(topic: topic, size: size, headers: headers)
    }

    /// Parses the size field of a `PUB` line; every failure is fatal, since the framer cannot
    /// know where the payload ends.
    private static func payloadSize(_ token: Substring?) throws(ProtocolError) -> Int {
        guard let token else {
            throw .fatalBadRequest("PUB needs <topic> <size>: size is missing")
        }
        let maxDigits = 19
        guard token.utf8.count <= maxDigits, token.utf8.allSatisfy(ASCII.isDigit) else {
            throw .fatalBadRequest("PUB size \(Quote.text(token)) must be a decimal byte count")
        }
        guard let size = ASCII.parseDecimal(token, maxDigits: maxDigits), let bytes = Int(exactly: size) else {
            throw ProtocolError(.payloadTooLarge, "PUB size \(token) is too large", closesConnection: true)
        }
        return bytes
    }
}
