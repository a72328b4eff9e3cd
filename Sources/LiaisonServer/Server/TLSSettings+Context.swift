import Foundation
import NIOSSL

extension TLSSettings {
    /// Reads every file the settings name and checks that they make a working server context.
    ///
    /// `liaisond` calls it while loading its configuration, so that a bad file stops the daemon at
    /// start with a message naming the file rather than failing at the first handshake.
    ///
    /// - Throws: ``TLSSettingsError`` naming the setting whose file is missing, unreadable, holds no
    ///   PEM certificate or key, or whose key does not match the certificate; or when
    ///   ``requireClientCertificate`` is set without ``clientCAPath``.
    public func validate() throws {
        _ = try self.makeServerContext()
    }

    /// The server-side TLS context: TLS 1.2 to 1.3, this certificate and key, and client
    /// certificate verification against ``clientCAPath`` when it is set.
    ///
    /// Client certificates are verified against the CA only, without a host name check: a
    /// client's certificate names an account, not the host it connects from.
    func makeServerContext() throws -> NIOSSLContext {
        let chain = try Self.load(.certificate, self.certificatePath) { try NIOSSLCertificate.fromPEMFile($0) }
        guard !chain.isEmpty else {
            throw TLSSettingsError(.certificate, "\(self.certificatePath) holds no PEM certificate")
        }
        let key = try Self.load(.privateKey, self.privateKeyPath) { try NIOSSLPrivateKey(file: $0, format: .pem) }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.maximumTLSVersion = .tlsv13
        // TLS 1.2 suites limited to forward-secret AEAD ones (TLS 1.3's are all of that kind).
        configuration.cipherSuites = "ECDH+AESGCM:ECDH+CHACHA20:!aNULL:!eNULL"
        if let clientCAPath = self.clientCAPath {
            let roots = try Self.load(.clientCA, clientCAPath) { try NIOSSLCertificate.fromPEMFile($0) }
            guard !roots.isEmpty else { throw TLSSettingsError(.clientCA, "\(clientCAPath) holds no PEM certificate") }
            configuration.trustRoots = .certificates(roots)
            configuration.certificateVerification =
                self.requireClientCertificate ? .noHostnameVerification : .optionalVerification
            // Tells clients which CA to pick a certificate for.
            configuration.sendCANameList = true
        } else if self.requireClientCertificate {
            throw TLSSettingsError(.clientCA, "requireClientCertificate needs a client CA file (tls.clientCA)")
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            // BoringSSL checks the key against the leaf certificate when the context is made.
            throw TLSSettingsError(
                .privateKey,
                "\(self.privateKeyPath) does not fit \(self.certificatePath): \(error)"
            )
        }
    }

    /// Runs `read` on `path`, first checking the file is there and readable, so that the error
    /// says which file is wrong and why (NIOSSL's errors name neither).
    private static func load<T>(
        _ setting: TLSSettingsError.Setting,
        _ path: String,
        _ read: (String) throws -> T
    ) throws -> T {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TLSSettingsError(setting, "\(path) does not exist")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw TLSSettingsError(setting, "\(path) is not readable by this user")
        }
        do {
            return try read(path)
        } catch {
            throw TLSSettingsError(setting, "\(path) is not a PEM file of the expected kind: \(error)")
        }
    }
}
