public import LiaisonStore

/// The tamper-evidence settings of the daemon (`audit.*`, docs/CONFIGURATION.md and docs/AUDIT.md).
public struct AuditSettings: Sendable, Equatable {
    /// Whether this daemon runs the log sealer (default `true`).
    public var enabled: Bool = true
    /// Sign a checkpoint after this many newly sealed messages (default 10 000).
    public var checkpointMessages: Int64 = 10_000
    /// …or when this many seconds passed since the last one and something new was sealed (default 60).
    public var checkpointSeconds: Int64 = 60
    /// How often the sealer looks for new messages when it has caught up, in milliseconds (default 250).
    public var sealIntervalMilliseconds: Int64 = 250
    /// Messages read and hashed per sealing step (default 5 000).
    public var pageSize: Int = 5_000
    /// The Ed25519 private key file; created with a new key (mode 0600) when it does not exist.
    public var signingKeyFile: String = AuditSettings.defaultSigningKeyFile

    /// The default key file, relative to the daemon's working directory.
    public static let defaultSigningKeyFile = "liaison-audit-signing.key"

    /// Creates the defaults.
    public init() {}

    /// The checkpoint policy these settings stand for.
    public var policy: CheckpointPolicy {
        CheckpointPolicy(messages: self.checkpointMessages, seconds: self.checkpointSeconds)
    }
}
