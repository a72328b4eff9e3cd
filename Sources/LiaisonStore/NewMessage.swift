public import LiaisonCore

/// A message on its way into the log: everything but the seq and time the database assigns.
public struct NewMessage: Sendable, Equatable {
    /// Where it is published.
    public var topic: Topic
    /// The authenticated account that published it.
    public var account: String
    /// Its headers (`id`, `prio`, `class` and pass-through keys).
    public var headers: Headers
    /// The opaque payload bytes, binary-safe.
    public var payload: [UInt8]

    /// Creates a message to append.
    public init(topic: Topic, account: String, headers: Headers, payload: [UInt8]) {
        self.topic = topic
        self.account = account
        self.headers = headers
        self.payload = payload
    }
}
