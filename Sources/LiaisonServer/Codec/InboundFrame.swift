public import LiaisonCore
public import NIOCore

/// One frame decoded from a client connection by ``LineFrameDecoder``.
///
/// Fatal framing errors are not frames: the decoder throws them, and the connection is closed
/// after the `ERR` reply. A ``malformed(_:)`` frame is a line that was framed correctly but is not
/// a valid command; the stream is still in sync and the session answers it and carries on.
public enum InboundFrame: Sendable, Equatable {
    /// A command other than `PUB`.
    case command(ClientCommand)
    /// A `PUB` line with its payload, exactly `request.size` bytes (line ending stripped).
    case publish(PublishRequest, payload: ByteBuffer)
    /// A framed line (and, for `PUB`, its consumed payload) that is not a valid command;
    /// `closesConnection` is always `false`.
    case malformed(ProtocolError)
}
