import Logging
import Testing

@testable import LiaisonServer

/// The decision a `SIGHUP` makes: which changed keys apply live, which need a restart, and what
/// runs afterwards; and the shared parts a reload updates in place.
@Suite struct ConfigurationReloadTests {
    private let running = ServerConfiguration(databaseURL: "postgresql://liaison@127.0.0.1:5432/liaison")

    private func reload(
        _ change: (inout ServerConfiguration) -> Void,
        level: Logger.Level = .info
    ) -> ConfigurationReload {
        var file = self.running
        change(&file)
        return ConfigurationReload(running: self.running, runningLogLevel: .info, file: file, fileLogLevel: level)
    }

    @Test func anUnchangedFileChangesNothing() {
        let reload = self.reload { _ in }
        #expect(reload.applied.isEmpty)
        #expect(reload.restartNeeded.isEmpty)
        #expect(reload.reloadsTLS == false)
        #expect(reload.configuration.limits.maxConnections == self.running.limits.maxConnections)
    }

    @Test func limitsAndTheLogLevelApplyLive() {
        let reload = self.reload(
            {
                $0.limits.maxConnections = 7
                $0.limits.publishRatePerSecond = 50
                $0.limits.ackWaitMilliseconds = 1_000
            },
            level: .debug
        )
        #expect(
            reload.applied == [
                "limits.maxConnections", "limits.publishRatePerSecond", "consumers.ackWaitMs", "log.level",
            ]
        )
        #expect(reload.restartNeeded.isEmpty)
        #expect(reload.configuration.limits.maxConnections == 7)
        #expect(reload.configuration.limits.publishRatePerSecond == 50)
        #expect(reload.logLevel == .debug)
    }

    @Test func boundSettingsNeedARestartAndKeepTheirRunningValue() {
        let reload = self.reload {
            $0.port = 7421
            $0.databaseURL = "postgresql://liaison@db2:5432/liaison"
            $0.publishTimeoutMilliseconds = 9_000
            $0.retention.batchSize = 10
            $0.metrics.heartbeatMilliseconds = 1_000
            $0.limits.maxSubscriptions = 3
        }
        #expect(
            reload.restartNeeded == ["listen", "database.url", "writer.publishTimeoutMs", "retention.*", "metrics.*"]
        )
        #expect(reload.applied == ["limits.maxSubscriptions"])
        #expect(reload.configuration.port == self.running.port)
        #expect(reload.configuration.databaseURL == self.running.databaseURL)
        #expect(reload.configuration.publishTimeoutMilliseconds == self.running.publishTimeoutMilliseconds)
        #expect(reload.configuration.retention.batchSize == self.running.retention.batchSize)
        #expect(reload.configuration.limits.maxSubscriptions == 3)
    }

    @Test func tlsFilesReloadLiveButTheListenerStaysWhereItIs() {
        var running = self.running
        running.tls = TLSSettings(
            certificatePath: "/etc/liaison/a.pem",
            privateKeyPath: "/etc/liaison/a.key",
            port: 7443
        )
        var file = running
        file.tls?.certificatePath = "/etc/liaison/b.pem"
        file.tls?.port = 8443
        let reload = ConfigurationReload(running: running, runningLogLevel: .info, file: file, fileLogLevel: .info)
        #expect(reload.reloadsTLS)
        #expect(reload.applied == ["tls.certificate"])
        #expect(reload.restartNeeded == ["tls.listen"])
        #expect(reload.configuration.tls?.certificatePath == "/etc/liaison/b.pem")
        #expect(reload.configuration.tls?.port == 7443)
    }

    @Test func sameTLSPathsStillRereadTheFiles() {
        var running = self.running
        running.tls = TLSSettings(certificatePath: "/etc/liaison/a.pem", privateKeyPath: "/etc/liaison/a.key")
        let reload = ConfigurationReload(running: running, runningLogLevel: .info, file: running, fileLogLevel: .info)
        #expect(reload.reloadsTLS)
        #expect(reload.applied.isEmpty)
    }

    @Test func turningTLSOnOrOffNeedsARestart() {
        var withTLS = self.running
        withTLS.tls = TLSSettings(certificatePath: "/etc/liaison/a.pem", privateKeyPath: "/etc/liaison/a.key")
        let on = ConfigurationReload(running: self.running, runningLogLevel: .info, file: withTLS, fileLogLevel: .info)
        let off = ConfigurationReload(running: withTLS, runningLogLevel: .info, file: self.running, fileLogLevel: .info)
        for reload in [on, off] {
            #expect(reload.restartNeeded == ["tls.certificate"])
            #expect(reload.reloadsTLS == false)
        }
        #expect(on.configuration.tls == nil)
        #expect(off.configuration.tls != nil)
    }

    @Test func liveSettingsChangeTheRateAndThrottleInPlace() {
        var limits = ServerConfiguration.Limits()
        limits.publishRatePerSecond = 1
        limits.publishBurst = 1
        let live = LiveSettings(limits: limits)
        #expect(live.publishRate.take("ohchr", now: 0))
        #expect(live.publishRate.take("ohchr", now: 0) == false)
        limits.publishRatePerSecond = 0
        limits.authLockoutFailures = 2
        live.update(limits: limits, tls: nil)
        #expect(live.publishRate.take("ohchr", now: 0))
        #expect(live.throttle.policy.lockoutFailures == 2)
        #expect(live.limits.publishRatePerSecond == 0)
    }
}
