/// How ``LiaisonClient`` speaks TLS to the daemon's TLS listener: which CA to trust, which name to
/// expect, and optionally the client certificate that authenticates it (mutual TLS).
///
/// With a client certificate the daemon authenticates the connection as the account named in the
/// certificate's subject CN, so no `AUTH` is needed.
///
/// ```swift
/// let tls = TLSOptions(caPath: "certs/ca.pem", certificatePath: "certs/client-ohchr.pem",
///                      privateKeyPath: "certs/client-ohchr.key")
/// let client = try await LiaisonClient.connect(host: "127.0.0.1", port: 7443, tls: tls)
/// ```
public struct TLSOptions: Sendable, Equatable {
    /// PEM file with the CA certificate(s) to trust for the server's certificate; `nil` trusts the
    /// system's roots.
    public var caPath: String?
    /// PEM file with the client certificate (then any intermediates) for mutual TLS, or `nil`.
    public var certificatePath: String?
    /// PEM file with the client certificate's private key; required with ``certificatePath``.
    public var privateKeyPath: String?
    /// The name the server's certificate must carry, also sent as SNI; `nil` uses the host passed
    /// to ``LiaisonClient/connect(host:port:tls:group:)``, or, when that is an IP address, checks the
    /// certificate's IP addresses against the address connected to. (NIOSSL also accepts a
    /// certificate whose IP address matches the connected address when a name is given.)
    public var serverName: String?

    /// Creates TLS options.
    ///
    /// - Parameters:
    ///   - caPath: PEM CA bundle to trust, or `nil` for the system's roots.
    ///   - certificatePath: PEM client certificate for mutual TLS, or `nil`.
    ///   - privateKeyPath: PEM key of the client certificate, or `nil`.
    ///   - serverName: Expected server name, or `nil` for the connect host.
    public init(
        caPath: String? = nil,
        certificatePath: String? = nil,
        privateKeyPath: String? = nil,
        serverName: String? = nil
    ) {
        self.caPath = caPath
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
        self.serverName = serverName
    }
}
