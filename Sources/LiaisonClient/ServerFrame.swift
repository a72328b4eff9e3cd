/// One frame decoded from the server's byte stream by ``ServerFrameDecoder``.
public enum ServerFrame: Sendable, Equatable {
    /// A control line without its line ending: the greeting, a reply (`OK …`, `ERR …`, `PONG`)
    /// or a server `PING`.
    case line(String)
    /// A whole `MSG` frame, payload included.
    case message(ReceivedMessage)
}
