public import LiaisonCore
public import NIOCore

extension ByteBuffer {
    /// Appends one control line and its LF: a reply (`OK …`, `ERR …`, `PONG`), the greeting or a
    /// server `PING`.
    ///
    /// - Parameter line: The line without line ending, e.g. from ``ServerLine`` or
    ///   ``ProtocolError/replyLine``; it must not contain CR or LF.
    public mutating func writeReply(_ line: String) {
        assert(
            !line.utf8.contains(UInt8(ascii: "\n")) && !line.utf8.contains(UInt8(ascii: "\r")),
            "a reply is one line"
        )
        self.writeString(line)
        self.writeInteger(UInt8(ascii: "\n"))
    }

    /// Appends a whole `MSG` frame: the header line, LF, the payload bytes, LF.
    ///
    /// - Parameters:
    ///   - sid: The subscription the message is delivered for.
    ///   - message: The message; its payload is copied as is.
    public mutating func writeMessage(sid: String, message: Message) {
        self.reserveCapacity(minimumWritableBytes: 128 + message.payload.count)
        self.writeString(ServerLine.messageHeader(sid: sid, message: message))
        self.writeInteger(UInt8(ascii: "\n"))
        self.writeBytes(message.payload)
        self.writeInteger(UInt8(ascii: "\n"))
    }
}
