/// A parsed `PUB <topic> <size> [k=v …]` control line; the payload follows it on the wire.
public struct PublishRequest: Sendable, Equatable {
    /// The topic to publish to.
    public var topic: Topic
    /// The payload size in bytes, as the line declared it.
    public var size: Int
    /// The message headers, in the order given.
    public var headers: Headers

    /// Creates a publish request.
    ///
    /// - Parameters:
    ///   - topic: The topic to publish to.
    ///   - size: The payload size in bytes.
    ///   - headers: The message headers.
    public init(topic: Topic, size: Int, headers: Headers = Headers()) {
        self.topic = topic
        self.size = size
        self.headers = headers
    }
}
