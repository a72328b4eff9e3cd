import LiaisonBench
import LiaisonClient
import Synchronization

/// A count shared between the tasks of a measurement (deliveries, writes) and the progress line.
final class BenchTally: Sendable {
    private let count = Atomic<Int>(0)

    /// Counts one more.
    func add() {
        self.count.wrappingAdd(1, ordering: .relaxed)
    }

    /// The count so far.
    var value: Int {
        self.count.load(ordering: .relaxed)
    }
}

/// The process-wide clock of the `bt=` timestamp header: nanoseconds since the first use, on the
/// monotonic clock (publishers and subscribers of `bench` share the process, so no clock skew).
enum BenchClock {
    private static let origin = ContinuousClock.now

    /// Nanoseconds since the origin.
    static func nanoseconds(at instant: ContinuousClock.Instant = .now) -> Int64 {
        let (seconds, attoseconds) = (instant - Self.origin).components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// The subscriber connections of one measurement: each subscribes to one pattern and counts its
/// `MSG`s and their publish→delivery latency (from the `bt=` header) until stopped.
struct BenchSubscribers {
    /// What the subscribers received together.
    struct Received {
        var deliveries = 0
        var latencies = LatencyHistogram()
        /// When the last message was read, or `nil` when none was.
        var last: ContinuousClock.Instant?
    }

    private let clients: [LiaisonClient]
    private let receivers: [Task<Received, Never>]
    private let tally: BenchTally

    /// Connects, authenticates and subscribes `count` connections, 100 at a time.
    ///
    /// - Parameters:
    ///   - count: Connections; 0 gives an empty set.
    ///   - pattern: The topic pattern each subscribes to (`SUB b <pattern> …`).
    ///   - server: Where and as whom to connect.
    ///   - tally: Counts every delivery of every subscriber.
    ///   - options: `SUB` options, e.g. `from=all` for a replay.
    /// - Throws: The first connect, `AUTH` or `SUB` error (the others are then closed).
    static func connect(
        count: Int,
        pattern: String,
        server: ServerOptions,
        tally: BenchTally,
        options: [(String, String)] = []
    ) async throws -> BenchSubscribers {
        var clients: [LiaisonClient] = []
        var receivers: [Task<Received, Never>] = []
        do {
            for batch in stride(from: 0, to: count, by: 100) {
                try await withThrowingTaskGroup(of: LiaisonClient.self) { group in
                    for _ in batch..<min(batch + 100, count) {
                        group.addTask { try await server.connect() }
                    }
                    for try await client in group {
                        clients.append(client)
                        receivers.append(Task { await Self.receive(client, tally: tally) })
                    }
                }
            }
            for client in clients {
                try await client.subscribe(sid: "b", pattern: pattern, options: options)
            }
        } catch {
            for client in clients {
                await client.close()
            }
            throw error
        }
        return BenchSubscribers(clients: clients, receivers: receivers, tally: tally)
    }

    private static func receive(_ client: LiaisonClient, tally: BenchTally) async -> Received {
        var received = Received()
        for await message in client.messages {
            let now = ContinuousClock.now
            if let sent = message.headers["bt"].flatMap({ Int64($0) }) {
                received.latencies.record(microseconds: (BenchClock.nanoseconds(at: now) - sent) / 1000)
            }
            received.deliveries += 1
            received.last = now
            tally.add()
        }
        return received
    }

    /// Waits until every subscriber has had `expected` messages, or none came for `stall`.
    func waitFor(each expected: Int, stall: Duration) async {
        let target = expected * self.clients.count
        var seen = self.tally.value
        var lastChange = ContinuousClock.now
        while seen < target, ContinuousClock.now - lastChange < stall {
            try? await Task.sleep(for: .milliseconds(20))
            let now = self.tally.value
            if now != seen {
                seen = now
                lastChange = .now
            }
        }
    }

    /// Closes every connection and returns what they received.
    @discardableResult
    func stop() async -> Received {
        for client in self.clients {
            await client.close()
        }
        var total = Received()
        for receiver in self.receivers {
            let one = await receiver.value
            total.deliveries += one.deliveries
            total.latencies.add(one.latencies)
            if let last = one.last, total.last.map({ last > $0 }) ?? true {
                total.last = last
            }
        }
        return total
    }
}
