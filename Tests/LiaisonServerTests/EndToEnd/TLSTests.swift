import Foundation
import LiaisonClient
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import TestSupport
import Testing

@testable import LiaisonServer

/// The TLS listener, plaintext switched off, and client certificates mapped to accounts (mutual
/// TLS), against the real daemon and PostgreSQL; certificates come from `deploy/make-certs.sh`.
@Suite struct TLSTests {
    @Test func clientSpeaksTLSAndPlaintextStillWorksBesideIt() async throws {
        let certs = try Certificates.shared()
        let db = try TestDatabase.create()
        defer { db.drop() }
        let tls = TLSSettings(certificatePath: certs.path("server.pem"), privateKeyPath: certs.path("server.key"))
        try await Daemon.run(db, tls: tls) { daemon in
            let client = try await LiaisonClient.connect(
                host: "127.0.0.1",
                port: daemon.tlsPort,
                tls: TLSOptions(caPath: certs.path("ca.pem"))
            )
            #expect(client.greeting.node == "liaison")
            try await client.auth(account: "unhcr", token: daemon.tokens["unhcr"]!)
            try await client.subscribe(sid: "mm", pattern: "field.mm.>")
            let ack = try await client.publish(topic: "field.mm.sittwe.report", payload: Array("over TLS".utf8))
            let got = try await collect(client, count: 1)
            #expect(got.map(\.seq) == [ack.seq])
            #expect(got.first?.payload == Array("over TLS".utf8))
            try await client.quit()

            // The host name (localhost) is checked against the certificate's DNS name too.
            let byName = try await LiaisonClient.connect(
                host: "localhost",
                port: daemon.tlsPort,
                tls: TLSOptions(caPath: certs.path("ca.pem"))
            )
            try await byName.ping()
            await byName.close()

            let plain = try await LiaisonClient.connect(host: "127.0.0.1", port: try #require(daemon.plaintextPort))
            try await plain.ping()
            await plain.close()
        }
    }

    @Test func plaintextListenerIsNotOpenedWhenDisabled() async throws {
        let certs = try Certificates.shared()
        let db = try TestDatabase.create()
        defer { db.drop() }
        let tls = TLSSettings(certificatePath: certs.path("server.pem"), privateKeyPath: certs.path("server.key"))
        let plaintextPort = try Self.unusedPort()
        try await Daemon.run(db, tls: tls, plaintextEnabled: false, plaintextPort: plaintextPort) { daemon in
            #expect(daemon.plaintextPort == nil)
            // Nothing listens on the configured plaintext port.
            #expect(throws: (any Error).self) { try RawSocket(port: plaintextPort) }
            // Plaintext bytes sent to the TLS port fail the handshake: the connection is closed and
            // the greeting (queued before the handshake) never leaks out unencrypted.
            let raw = try RawSocket(port: daemon.tlsPort)
            try raw.send("PING\n")
            let answer = try await raw.readUntilClosed(timeout: .seconds(10))
            #expect(!answer.contains("LIAISON"))
            #expect(!answer.contains("PONG"))
            // A TLS client is served.
            let client = try await LiaisonClient.connect(
                host: "127.0.0.1",
                port: daemon.tlsPort,
                tls: TLSOptions(caPath: certs.path("ca.pem"))
            )
            try await client.auth(account: "ohchr", token: daemon.tokens["ohchr"]!)
            try await client.ping()
            await client.close()
        }
    }

    @Test func serverCertificateFromAnotherCAIsRefused() async throws {
        let certs = try Certificates.shared()
        let db = try TestDatabase.create()
        defer { db.drop() }
        let tls = TLSSettings(certificatePath: certs.path("server.pem"), privateKeyPath: certs.path("server.key"))
        try await Daemon.run(db, tls: tls) { daemon in
            let error = await #expect(throws: ClientError.self) {
                try await LiaisonClient.connect(
                    host: "127.0.0.1",
                    port: daemon.tlsPort,
                    tls: TLSOptions(caPath: certs.other("ca.pem"))
                )
            }
            #expect(error?.code == .tls)
        }
    }

    @Test func clientCertificateAuthenticatesAsItsCommonName() async throws {
        let certs = try Certificates.shared()
        let db = try TestDatabase.create()
        defer { db.drop() }
        let tls = TLSSettings(
            certificatePath: certs.path("server.pem"),
            privateKeyPath: certs.path("server.key"),
            clientCAPath: certs.path("ca.pem")
        )
        try await Daemon.run(db, tls: tls) { daemon in
            let office = try await LiaisonClient.connect(
                host: "127.0.0.1",
                port: daemon.tlsPort,
                tls: TLSOptions(
                    caPath: certs.path("ca.pem"),
                    certificatePath: certs.path("client-unhcr-mm-sittwe.pem"),
                    privateKeyPath: certs.path("client-unhcr-mm-sittwe.key")
                )
            )
            #expect(office.greeting.version == 1)
            // No AUTH: the certificate named the account.
            #expect(try await office.command("SUB a field.mm.>") == "OK SUB a")
            // The connection is that account; AUTH as another one is a conflict.
            let other = try await office.command("AUTH ohchr \(daemon.tokens["ohchr"]!)")
            #expect(other.hasPrefix("ERR 409"))
            await office.close()

            // Client certificates are optional here: without one, AUTH is needed as before.
            let anonymous = try await LiaisonClient.connect(
                host: "127.0.0.1",
                port: daemon.tlsPort,
                tls: TLSOptions(caPath: certs.path("ca.pem"))
            )
            #expect(try await anonymous.command("SUB a field.mm.>").hasPrefix("ERR 401"))
            try await anonymous.auth(account: "unhcr", token: daemon.tokens["unhcr"]!)
            #expect(try await anonymous.command("SUB b field.mm.>") == "OK SUB b")
            await anonymous.close()

            // A certificate from another CA is refused during the handshake.
            await #expect(throws: ClientError.self) {
                try await LiaisonClient.connect(
                    host: "127.0.0.1",
                    port: daemon.tlsPort,
                    tls: TLSOptions(
                        caPath: certs.path("ca.pem"),
                        certificatePath: certs.other("client-unhcr-mm-sittwe.pem"),
                        privateKeyPath: certs.other("client-unhcr-mm-sittwe.key")
                    )
                )
            }
        }
    }

    @Test func requiredClientCertificateRefusesClientsWithout() async throws {
        let certs = try Certificates.shared()
        let db = try TestDatabase.create()
        defer { db.drop() }
        let tls = TLSSettings(
            certificatePath: certs.path("server.pem"),
            privateKeyPath: certs.path("server.key"),
            clientCAPath: certs.path("ca.pem"),
            requireClientCertificate: true
        )
        try await Daemon.run(db, tls: tls) { daemon in
            await #expect(throws: ClientError.self) {
                let client = try await LiaisonClient.connect(
                    host: "127.0.0.1",
                    port: daemon.tlsPort,
                    tls: TLSOptions(caPath: certs.path("ca.pem"))
                )
                // With TLS 1.3 the client may finish its side before the server refuses it.
                try await client.ping()
            }
            let hq = try await LiaisonClient.connect(
                host: "127.0.0.1",
                port: daemon.tlsPort,
                tls: TLSOptions(
                    caPath: certs.path("ca.pem"),
                    certificatePath: certs.path("client-ohchr.pem"),
                    privateKeyPath: certs.path("client-ohchr.key")
                )
            )
            try await hq.ping()
            await hq.close()
        }
    }

    @Test(arguments: [
        ("client-unhcr-mm-sittwe.pem", "unhcr-mm-sittwe"),
        ("client-ohchr.pem", "ohchr"),
        ("server.pem", "localhost"),
        ("san-only.pem", "undp-ba-sarajevo"),
    ])
    func accountIsTheCommonNameElseTheFirstDNSName(file: String, account: String) throws {
        let certs = try Certificates.shared()
        let certificate = try #require(try NIOSSLCertificate.fromPEMFile(certs.path(file)).first)
        #expect(PeerIdentityHandler.account(of: certificate) == account)
    }

    /// Each row: certificate, key, client CA (files in the test bed), require a client
    /// certificate, and the setting the error must name.
    @Test(
        arguments: [
            ("missing.pem", "server.key", nil, false, TLSSettingsError.Setting.certificate),
            ("server.key", "server.key", nil, false, .certificate),
            ("server.pem", "missing.key", nil, false, .privateKey),
            ("server.pem", "ca.key", nil, false, .privateKey),  // the key of another certificate
            ("server.pem", "server.key", "missing-ca.pem", false, .clientCA),
            ("server.pem", "server.key", "server.key", false, .clientCA),
            ("server.pem", "server.key", nil, true, .clientCA),  // required, but no CA to check against
        ] as [(String, String, String?, Bool, TLSSettingsError.Setting)]
    )
    func unusableSettingsAreReportedWithTheirSetting(
        certificate: String,
        key: String,
        clientCA: String?,
        require: Bool,
        setting: TLSSettingsError.Setting
    ) throws {
        let certs = try Certificates.shared()
        let settings = TLSSettings(
            certificatePath: certs.path(certificate),
            privateKeyPath: certs.path(key),
            clientCAPath: clientCA.map { certs.path($0) },
            requireClientCertificate: require
        )
        let error = #expect(throws: TLSSettingsError.self) { try settings.validate() }
        #expect(error?.setting == setting)
        #expect(error?.message.contains(certs.directory.path) ?? false || setting == .clientCA && require)
    }

    @Test func workingSettingsValidate() throws {
        let certs = try Certificates.shared()
        try TLSSettings(
            certificatePath: certs.path("server.pem"),
            privateKeyPath: certs.path("server.key"),
            clientCAPath: certs.path("ca.pem"),
            requireClientCertificate: true
        ).validate()
    }

    /// A port that was free a moment ago (bound to port 0 and released).
    private static func unusedPort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? channel.close().wait() }
        return channel.localAddress!.port!
    }
}

extension TLSTests {
    /// The daemon with a TLS listener on a free port, and the plaintext one unless disabled.
    struct Daemon {
        /// The plaintext listener's port, `nil` when it is disabled.
        var plaintextPort: Int?
        var tlsPort: Int
        var tokens: [String: String]

        static func run(
            _ db: TestDatabase,
            tls: TLSSettings,
            plaintextEnabled: Bool = true,
            plaintextPort: Int = 0,
            _ body: @Sendable (Daemon) async throws -> Void
        ) async throws {
            let tokens = try TestDaemon.seed(db)
            var configuration = ServerConfiguration(databaseURL: db.url)
            configuration.port = plaintextPort
            configuration.plaintextEnabled = plaintextEnabled
            var tls = tls
            tls.port = 0
            configuration.tls = tls
            configuration.eventLoopThreads = 2
            configuration.readPoolSize = 2
            var logger = Logger(label: "liaisond-tls-test")
            logger.logLevel =
                ProcessInfo.processInfo.environment["LIAISON_TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) }
                ?? .warning
            let server = LiaisonServer(configuration: configuration, logger: logger)
            let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                do {
                    let tlsAddress = try #require(try await server.tlsListeningAddress())
                    let first = try await server.listeningAddress()
                    let daemon = Daemon(
                        plaintextPort: first == tlsAddress ? nil : first.port,
                        tlsPort: tlsAddress.port!,
                        tokens: tokens
                    )
                    try await body(daemon)
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                } catch {
                    // Stop the daemon before reporting, or the task group would wait on it forever.
                    await group.triggerGracefulShutdown()
                    try? await tasks.waitForAll()
                    throw error
                }
            }
        }
    }

    /// Certificates made once per test process by `deploy/make-certs.sh`: the test bed's CA, server
    /// and client certificates, the same made again by another CA (``other(_:)``), and
    /// `san-only.pem`, a client certificate with no CN and the DNS name `undp-ba-sarajevo`.
    struct Certificates: Sendable {
        let directory: URL

        func path(_ file: String) -> String { self.directory.appendingPathComponent(file).path }
        func other(_ file: String) -> String { self.directory.appendingPathComponent("other/\(file)").path }

        static func shared() throws -> Certificates { try Self.made.get() }

        private static let made = Result { try Certificates.make() }

        /// This process's folder of certificates and private keys.
        private static let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("liaison-tls-\(UUID().uuidString.prefix(8))")

        private static func make() throws -> Certificates {
            let directory = Self.folder
            // The keys must not outlive the test process: remove the folder when it exits.
            atexit { try? FileManager.default.removeItem(at: TLSTests.Certificates.folder) }
            let script = TestDatabase.packageRoot.appendingPathComponent("deploy/make-certs.sh").path
            let accounts = ["ohchr", "unhcr-mm-sittwe"]
            try Self.run(script, [directory.path] + accounts)
            try Self.run(script, [directory.appendingPathComponent("other").path] + accounts)
            let certificates = Certificates(directory: directory)
            let request = directory.appendingPathComponent("san-only.csr").path
            let extensions = directory.appendingPathComponent("san-only.ext")
            try "subjectAltName=DNS:undp-ba-sarajevo,DNS:undp\n".write(
                to: extensions,
                atomically: true,
                encoding: .utf8
            )
            try Self.run(
                "/usr/bin/env",
                [
                    "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", certificates.path("san-only.key"), "-subj", "/O=Liaison test bed", "-out", request,
                ]
            )
            try Self.run(
                "/usr/bin/env",
                [
                    "openssl", "x509", "-req", "-in", request, "-CA", certificates.path("ca.pem"),
                    "-CAkey", certificates.path("ca.key"), "-CAcreateserial", "-days", "30",
                    "-extfile", extensions.path, "-out", certificates.path("san-only.pem"),
                ]
            )
            return certificates
        }

        private static func run(_ executable: String, _ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw CertificateScriptFailed(command: ([executable] + arguments).joined(separator: " "))
            }
        }
    }

    /// `deploy/make-certs.sh` or `openssl` failed (is openssl installed?).
    struct CertificateScriptFailed: Error, CustomStringConvertible {
        var command: String
        var description: String { "failed: \(self.command)" }
    }
}
