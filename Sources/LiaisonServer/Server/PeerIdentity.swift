/// The account a client proved with its TLS certificate (mutual TLS), sent once through the
/// channel pipeline as a user inbound event after the handshake.
///
/// ``PeerIdentityHandler`` fires it when a client presented a certificate that the server
/// verified against `tls.clientCA`. The account is the certificate subject's common name, or,
/// when the subject has none, its first DNS subject alternative name. The session then treats the
/// connection as authenticated as that account (if it exists and is enabled), without `AUTH`.
public struct PeerIdentity: Sendable, Equatable {
    /// The account name the certificate carries (not yet checked against the account table).
    public var account: String

    /// Creates an identity.
    ///
    /// - Parameter account: The account name from the client certificate.
    public init(account: String) {
        self.account = account
    }
}
