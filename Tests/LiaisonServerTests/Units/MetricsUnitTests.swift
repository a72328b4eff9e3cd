import LiaisonStore
import NIOHTTP1
import Prometheus
import Testing

@testable import LiaisonServer

/// The metrics endpoint's pure parts: routing of request lines, the readiness decision, and the
/// exported counters following ``ServerCounters`` (docs/OPERATIONS.md, "Metrics").
@Suite struct MetricsUnitTests {
    @Test func getOfAKnownPathIsRoutedAndAQueryStringIgnored() {
        #expect(MetricsRoute.parse(method: .GET, uri: "/metrics") == .route(.metrics))
        #expect(MetricsRoute.parse(method: .GET, uri: "/healthz") == .route(.health))
        #expect(MetricsRoute.parse(method: .GET, uri: "/readyz?verbose=1") == .route(.ready))
    }

    @Test func otherMethodsGet405WithAllowAndUnknownPaths404() {
        guard case .refused(let post) = MetricsRoute.parse(method: .POST, uri: "/metrics") else {
            Issue.record("POST /metrics was routed")
            return
        }
        #expect(post.status == .methodNotAllowed)
        #expect(post.headers["Allow"] == ["GET"])
        guard case .refused(let head) = MetricsRoute.parse(method: .HEAD, uri: "/healthz") else {
            Issue.record("HEAD /healthz was routed")
            return
        }
        #expect(head.status == .methodNotAllowed)
        for uri in ["/", "/metrics/", "/Metrics", "", "*", "/readyz/../metrics"] {
            guard case .refused(let answer) = MetricsRoute.parse(method: .GET, uri: uri) else {
                Issue.record("\(uri) was routed")
                continue
            }
            #expect(answer.status == .notFound, "\(uri)")
        }
    }

    @Test func readyOnlyWithTheDatabaseAtThisBuildsSchemaAndNoStalledCommit() {
        let timeout = Duration.seconds(5)
        let ready = Readiness.evaluate(
            schemaVersion: .success(12),
            requiredVersion: 12,
            commitRunning: .seconds(4),
            publishTimeout: timeout
        )
        #expect(ready.isReady)
        let behind = Readiness.evaluate(
            schemaVersion: .success(11),
            requiredVersion: 12,
            commitRunning: nil,
            publishTimeout: timeout
        )
        #expect(behind.failures == ["schema: database at version 11, this build needs 12: run liaisonctl migrate"])
        let ahead = Readiness.evaluate(
            schemaVersion: .success(13),
            requiredVersion: 12,
            commitRunning: nil,
            publishTimeout: timeout
        )
        #expect(ahead.failures == ["schema: database at version 13 is newer than this build's 12"])
        let down = Readiness.evaluate(
            schemaVersion: .failure(StoreError(.unavailable, "connection refused")),
            requiredVersion: 12,
            commitRunning: .seconds(6),
            publishTimeout: timeout
        )
        #expect(
            down.failures == [
                "database: unreachable: connection refused",
                "writer: a batch has been committing for 6000 ms (publish timeout 5000 ms)",
            ]
        )
    }

    @Test func theCommitMonitorReportsTheOldestAppendInFlight() {
        let monitor = CommitMonitor()
        #expect(monitor.oldestInFlight() == nil)
        let first = monitor.started()
        let second = monitor.started()
        monitor.finished(second, messages: 3, succeeded: true)
        let running = monitor.oldestInFlight(now: .now + .seconds(10))
        #expect(running.map { $0 >= .seconds(10) } == true)
        monitor.finished(first, messages: 1, succeeded: false)
        #expect(monitor.oldestInFlight() == nil)
    }

    @Test func exportedSeriesFollowTheCountersAndRefusalsCarryTheirCode() {
        let counters = ServerCounters()
        counters.add(\.published, 3)
        counters.add(\.openConnections)
        counters.add(\.openConnections)
        counters.add(\.openConnections, -1)
        counters.add(\.publishFailures, 2)
        counters.count(.publishRefused)
        counters.count(.subscribeRefused)
        counters.count(.authFailed)
        counters.count(.authSucceeded)
        counters.add(\.publishesRateLimited)
        counters.add(\.subscriptionsOverLimit)
        let text = counters.metrics.registry.emitToString()
        let lines = Set(text.split(separator: "\n").map(String.init))
        #expect(lines.contains("liaison_messages_published_total 3"), "\(text)")
        #expect(lines.contains("liaison_connections_open 1.0"))
        #expect(lines.contains("liaison_publish_failures_total 2"))
        #expect(lines.contains("liaison_publishes_refused_total{code=\"503\"} 2"))
        #expect(lines.contains("liaison_publishes_refused_total{code=\"403\"} 1"))
        #expect(lines.contains("liaison_subscriptions_refused_total{code=\"403\"} 1"))
        #expect(lines.contains("liaison_auth_failures_total 1"))
        #expect(lines.contains("liaison_publishes_refused_total{code=\"429\"} 1"))
        #expect(lines.contains("liaison_subscriptions_refused_total{code=\"429\"} 1"))
        let snapshot = counters.snapshot
        #expect(snapshot.refusals[.init(command: .publish, code: 503)] == 2)
        #expect(snapshot.authFailures == 1)
        #expect(snapshot.openConnections == 1)
    }

    @Test func lagGaugesKeepOnlyTheConsumersLastReported() {
        let metrics = ServerMetrics()
        metrics.update(lags: [
            DurableLag(account: "ohchr", consumer: "a", lagSeqs: 40, unacknowledged: 2),
            DurableLag(account: "ohchr", consumer: "b", lagSeqs: 7, unacknowledged: 0),
        ])
        var text = metrics.registry.emitToString()
        #expect(text.contains("liaison_durable_lag_seqs{account=\"ohchr\",consumer=\"a\"} 40.0"), "\(text)")
        #expect(text.contains("liaison_durable_unacknowledged_messages{account=\"ohchr\",consumer=\"a\"} 2.0"))
        metrics.update(lags: [DurableLag(account: "ohchr", consumer: "b", lagSeqs: 9, unacknowledged: 0)])
        text = metrics.registry.emitToString()
        #expect(!text.contains("consumer=\"a\""), "\(text)")
        #expect(text.contains("liaison_durable_lag_seqs{account=\"ohchr\",consumer=\"b\"} 9.0"))
    }

    @Test func connectCountersMoveByWhatTheStorageCountedSinceTheLastScrape() {
        let metrics = ServerMetrics()
        metrics.update(connections: DatabaseConnectionStatistics(opened: 4, failed: 0))
        metrics.update(connections: DatabaseConnectionStatistics(opened: 6, failed: 3))
        let lines = Set(metrics.registry.emitToString().split(separator: "\n").map(String.init))
        #expect(lines.contains("liaison_database_connections_opened_total 6"))
        #expect(lines.contains("liaison_database_connect_failures_total 3"))
    }
}
