public import Foundation

/// A committed message as stored in the log and delivered in `MSG` frames.
public struct Message: Sendable, Equatable {
    /// The position in the log: assigned from one sequence at commit, ≥ 1, no gaps in commit order.
    public var seq: Int64
    /// The topic it was published to.
    public var topic: Topic
    /// The account that published it.
    public var account: String
    /// When the publishing transaction committed (the server's clock).
    public var publishedAt: Date
    /// The headers the publisher gave.
    public var headers: Headers
    /// The payload bytes, binary-safe.
    public var payload: [UInt8]

    /// Creates a message.
    ///
    /// - Parameters:
    ///   - seq: The log position, ≥ 1.
    ///   - topic: The topic.
    ///   - account: The publishing account.
    ///   - publishedAt: The commit time.
    ///   - headers: The message headers.
    ///   - payload: The payload bytes.
    public init(
        seq: Int64,
        topic: Topic,
        account: String,
        publishedAt: Date,
        headers: Headers = Headers(),
        payload: [UInt8]
    ) {
        self.seq = seq
        self.topic = topic
        self.account = account
        self.publishedAt = publishedAt
        self.headers = headers
        self.payload = payload
    }
}
