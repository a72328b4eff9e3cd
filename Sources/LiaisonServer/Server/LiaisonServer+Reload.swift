import NIOSSL

extension LiaisonServer {
    /// Applies a configuration reload's live settings (``ConfigurationReload``): connections
    /// opened from now on take the new limits and, when ``ConfigurationReload/reloadsTLS``, a TLS
    /// context built from the files as they are now; the account-wide publish rate and AUTH
    /// throttle change for every connection. Open connections keep their state and are not closed.
    ///
    /// - Parameter reload: The decided reload; its ``ConfigurationReload/restartNeeded`` keys are
    ///   left for the caller to report.
    /// - Throws: ``TLSSettingsError`` when the TLS files cannot be used; then nothing is applied.
    public func apply(_ reload: ConfigurationReload) throws {
        var context: NIOSSLContext?
        if reload.reloadsTLS, let tls = reload.configuration.tls {
            context = try tls.makeServerContext()
        }
        self.live.update(limits: reload.configuration.limits, tls: context)
    }
}
