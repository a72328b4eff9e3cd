import NIOCore
import NIOSSL
import NIOTLS

/// Turns a verified client certificate into a ``PeerIdentity`` event for the session.
///
/// Sits right after the `NIOSSLServerHandler`. When the handshake completes it reads the peer
/// certificate (already verified against the client CA by BoringSSL, or absent), fires
/// ``PeerIdentity`` if the certificate names an account, and leaves the pipeline: it has nothing
/// to do for the rest of the connection. Because decrypted bytes only flow after the handshake,
/// the event reaches the session before the client's first command.
final class PeerIdentityHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case TLSUserEvent.handshakeCompleted = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate
        context.fireUserInboundEventTriggered(event)
        if let certificate, let account = Self.account(of: certificate) {
            context.fireUserInboundEventTriggered(PeerIdentity(account: account))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// The account a certificate names: the subject's common name (the last one, the most specific,
    /// if there are several), else the first DNS subject alternative name; `nil` if neither exists.
    static func account(of certificate: NIOSSLCertificate) -> String? {
        if let commonName = certificate.subjectName.last(where: { $0.type == .commonName })?.value,
            !commonName.isEmpty
        {
            return commonName
        }
        for name in certificate._subjectAlternativeNames() where name.nameType == .dnsName {
            let text = name.contents.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
            if !text.isEmpty { return text }
        }
        return nil
    }
}
