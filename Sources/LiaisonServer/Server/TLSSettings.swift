/// The daemon's TLS listener: where it listens and which PEM files it presents and trusts.
///
/// The listener speaks TLS 1.2 at least (ECDHE with AES-GCM or ChaCha20 only) and prefers
/// TLS 1.3. With ``clientCAPath`` set it asks every client for a certificate signed by that CA
/// (mutual TLS) and authenticates the connection as the account its subject CN names
/// (``PeerIdentity``); with ``requireClientCertificate`` it refuses clients that present none. Files are read when the server starts, by
/// ``validate()``, and again on a configuration reload (`SIGHUP`, ``LiaisonServer/apply(_:)``),
/// so a renewed certificate written over the old files is used by the next TLS connection.
public struct TLSSettings: Sendable, Equatable {
    /// Address the TLS listener binds (default `127.0.0.1`).
    public var host: String
    /// TCP port of the TLS listener (default 7443; 0 picks a free port, as tests do).
    public var port: Int
    /// PEM file with the server certificate, then any intermediate certificates.
    public var certificatePath: String
    /// PEM file with the server certificate's private key (PKCS#8, PKCS#1 or SEC1).
    public var privateKeyPath: String
    /// PEM file with the CA certificate(s) that sign client certificates; `nil` turns mutual TLS off
    /// (the server asks for no client certificate and clients `AUTH` with a token).
    public var clientCAPath: String?
    /// Whether a client without a certificate is refused during the handshake; needs ``clientCAPath``.
    /// When `false`, a client may present a certificate (then it must be valid) or `AUTH` instead.
    public var requireClientCertificate: Bool

    /// Creates TLS settings.
    ///
    /// - Parameters:
    ///   - certificatePath: PEM certificate chain of the server, leaf first.
    ///   - privateKeyPath: PEM private key of the leaf certificate.
    ///   - clientCAPath: PEM CA bundle for client certificates, or `nil` for no mutual TLS.
    ///   - requireClientCertificate: Refuse clients without a certificate (needs `clientCAPath`).
    ///   - host: Address to bind.
    ///   - port: Port to bind.
    public init(
        certificatePath: String,
        privateKeyPath: String,
        clientCAPath: String? = nil,
        requireClientCertificate: Bool = false,
        host: String = "127.0.0.1",
        port: Int = 7443
    ) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.clientCAPath = clientCAPath
        self.requireClientCertificate = requireClientCertificate
        self.host = host
        self.port = port
    }
}
