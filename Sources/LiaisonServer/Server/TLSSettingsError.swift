/// A TLS setting that cannot be used: a file that is missing, unreadable or not the expected PEM,
/// a key that does not match its certificate, or contradictory options.
public struct TLSSettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which setting is wrong.
    public enum Setting: String, Sendable, Equatable {
        /// ``TLSSettings/certificatePath``.
        case certificate
        /// ``TLSSettings/privateKeyPath``.
        case privateKey
        /// ``TLSSettings/clientCAPath`` or ``TLSSettings/requireClientCertificate``.
        case clientCA
    }

    /// Which setting is wrong.
    public var setting: Setting
    /// What is wrong with it, for a person (names the file).
    public var message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - setting: Which setting is wrong.
    ///   - message: What is wrong with it.
    public init(_ setting: Setting, _ message: String) {
        self.setting = setting
        self.message = message
    }

    /// `tls <setting>: <message>`.
    public var description: String { "tls \(self.setting.rawValue): \(self.message)" }
}
