import LiaisonStore
import Prometheus
import Testing

@testable import LiaisonServer

/// `SUB`s refused with `ERR 409` or by the store (`ERR 503`) are counted by their code, and a
/// session's storage call that failed in the database counts as a database error.
@Suite struct RefusalCountingTests {
    private typealias H = MachineHarness

    @Test func aSecondSubWithTheSameIdAndADurableInUseAreCountedAs409() {
        var h = H()
        h.authenticate()
        #expect(H.written(h.send("SUB 1 field.>")) == ["OK SUB 1"])
        let repeated = h.send("SUB 1 field.>")
        #expect(H.written(repeated) == ["ERR 409 subscription 1 exists"])
        #expect(repeated.contains(.refused(.subscribe, code: 409)))
        h.policy.claimedDurables.insert("feed")
        let inUse = h.send("SUB 2 field.> durable=feed")
        #expect(H.written(inUse) == ["ERR 409 durable feed is in use by another connection"])
        #expect(inUse.contains(.refused(.subscribe, code: 409)))
    }

    @Test func aDurableTheStoreCouldNotBindIsCountedWithTheCodeItGot() {
        var h = H()
        h.authenticate()
        _ = h.send("SUB 1 field.> durable=feed")
        let failed = h.machine.storeAnswered(
            .consumerOpened(sid: "1", .failure(StoreError(.unavailable, "connection lost"))),
            now: h.now
        )
        #expect(H.written(failed) == ["ERR 503 connection lost"])
        #expect(failed.contains(.refused(.subscribe, code: 503)))
    }

    @Test func storageCallsThatFailedInTheDatabaseAreDatabaseErrors() {
        let counters = ServerCounters()
        counters.storageCallFailed(StoreError(.unavailable, "connection lost"))
        counters.storageCallFailed(StoreError(.database, "relation does not exist"))
        // Answers, not failures: a lease held elsewhere, an unknown consumer.
        counters.storageCallFailed(StoreError(.conflict, "in use"))
        counters.storageCallFailed(StoreError(.notFound, "no such consumer"))
        let lines = counters.metrics.registry.emitToString().split(separator: "\n")
        #expect(lines.contains("liaison_database_errors_total 2"))
    }
}
