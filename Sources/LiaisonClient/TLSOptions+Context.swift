import NIOCore
import NIOSSL

extension TLSOptions {
    /// The client-side TLS context: TLS 1.2 to 1.3, full verification of the server's certificate
    /// against ``caPath`` (or the system roots), and the client certificate when one is given.
    ///
    /// - Throws: ``ClientError`` (``ClientError/Code/tls``) when a file cannot be read or parsed, or
    ///   only one of certificate and key is given.
    func makeContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.maximumTLSVersion = .tlsv13
        configuration.certificateVerification = .fullVerification
        if let caPath = self.caPath {
            configuration.trustRoots = .certificates(try Self.load(caPath) { try NIOSSLCertificate.fromPEMFile($0) })
        }
        switch (self.certificatePath, self.privateKeyPath) {
        case (let certificatePath?, let privateKeyPath?):
            let chain = try Self.load(certificatePath) { try NIOSSLCertificate.fromPEMFile($0) }
            let key = try Self.load(privateKeyPath) { try NIOSSLPrivateKey(file: $0, format: .pem) }
            configuration.certificateChain = chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(key)
        case (nil, nil):
            break
        default:
            throw ClientError(.tls, "a client certificate needs both a certificate file and a private key file")
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ClientError(.tls, "the TLS settings cannot be used: \(error)")
        }
    }

    /// The name to send as SNI and check the certificate against: ``serverName``, else `host`
    /// unless it is an IP address (SNI cannot carry one; NIOSSL then checks the certificate's IP
    /// addresses against the connected address).
    func serverHostname(forHost host: String) -> String? {
        if let serverName = self.serverName { return serverName }
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        return isAddress ? nil : host
    }

    private static func load<T>(_ path: String, _ read: (String) throws -> T) throws -> T {
        do {
            return try read(path)
        } catch {
            throw ClientError(.tls, "\(path) cannot be read as PEM: \(error)")
        }
    }
}
