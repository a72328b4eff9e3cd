/// The server's answer to a successful `PUB`: `OK PUB <seq>` or `OK PUB <seq> DUP`.
public struct PublishAck: Sendable, Equatable {
    /// The message's seq; for a duplicate, the seq of the first message with that `id`.
    public var seq: Int64
    /// Whether the server recognised the `id` header as a repeat and stored nothing.
    public var duplicate: Bool

    /// Creates an acknowledgement.
    ///
    /// - Parameters:
    ///   - seq: The message's seq.
    ///   - duplicate: Whether it was a duplicate.
    public init(seq: Int64, duplicate: Bool = false) {
        self.seq = seq
        self.duplicate = duplicate
    }

    /// Parses `OK PUB <seq>` or `OK PUB <seq> DUP`.
    ///
    /// - Parameter line: The reply line without its line ending.
    /// - Returns: The acknowledgement, or `nil` when the line has another shape.
    public init?(replyLine line: String) {
        let tokens = line.split(separator: " ")
        guard tokens.count == 3 || tokens.count == 4, tokens[0] == "OK", tokens[1] == "PUB",
            let seq = Int64(tokens[2])
        else {
            return nil
        }
        if tokens.count == 4 {
            guard tokens[3] == "DUP" else {
                return nil
            }
        }
        self.init(seq: seq, duplicate: tokens.count == 4)
    }
}
