import Testing

@testable import LiaisonClient

/// The reconnect schedule: full jitter under a ceiling that grows, stops at the cap and resets.
@Suite struct BackoffTests {
    /// Always answers the same bits: all ones draws the top of a range, all zeros its bottom.
    private struct FixedRandom: RandomNumberGenerator {
        var bits: UInt64
        mutating func next() -> UInt64 { self.bits }
    }

    /// A 64-bit linear congruential generator (Knuth's MMIX constants): spread enough for a bounds
    /// test, and repeatable.
    private struct Congruential: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            self.state = self.state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return self.state
        }
    }

    private func draws(_ count: Int, _ backoff: inout Backoff, bits: UInt64) -> [Int?] {
        var random = FixedRandom(bits: bits)
        return (0..<count).map { _ in backoff.nextDelay(using: &random) }
    }

    @Test func theCeilingStartsAt250MsDoublesAndStopsAt30Seconds() {
        var backoff = Backoff(policy: ReconnectPolicy())
        let top = self.draws(10, &backoff, bits: .max)
        #expect(top == [250, 500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000])
        #expect(backoff.attempts == 10)
    }

    @Test func theBottomOfEveryRangeIsZero() {
        var backoff = Backoff(policy: ReconnectPolicy())
        #expect(self.draws(5, &backoff, bits: 0) == [0, 0, 0, 0, 0])
    }

    @Test func jitterStaysWithinZeroAndTheCeilingAndSpreads() {
        var backoff = Backoff(policy: ReconnectPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(2)))
        var random = Congruential(state: 42)
        var seen: [Int] = []
        for _ in 0..<200 {
            let ceiling = backoff.ceilingMilliseconds
            let delay = backoff.nextDelay(using: &random) ?? -1
            #expect((0...ceiling).contains(delay))
            #expect(ceiling <= 2000)
            seen.append(delay)
        }
        // Full jitter spreads over the whole range rather than clustering at the ceiling.
        let capped = seen.suffix(150)
        #expect(capped.contains { $0 < 500 })
        #expect(capped.contains { $0 > 1500 })
    }

    @Test func aStableConnectionResetsTheScheduleAShortOneDoesNot() {
        var backoff = Backoff(policy: ReconnectPolicy(resetAfter: .seconds(10)))
        _ = self.draws(4, &backoff, bits: .max)
        backoff.connectionEnded(after: .seconds(3))
        #expect(self.draws(1, &backoff, bits: .max) == [4000])
        backoff.connectionEnded(after: .seconds(10))
        #expect(backoff.attempts == 0)
        #expect(self.draws(2, &backoff, bits: .max) == [250, 500])
    }

    @Test func maxAttemptsEndsTheScheduleUntilAReset() {
        var backoff = Backoff(policy: ReconnectPolicy(maxAttempts: 2))
        #expect(self.draws(3, &backoff, bits: .max) == [250, 500, nil])
        backoff.connectionEnded(after: .seconds(60))
        #expect(self.draws(1, &backoff, bits: .max) == [250])
        var never = Backoff(policy: .never)
        #expect(self.draws(1, &never, bits: .max) == [nil])
    }

    @Test func anOtherMultiplierAndAnInitialDelayAboveTheCap() {
        var triple = Backoff(policy: ReconnectPolicy(initialDelay: .milliseconds(10), multiplier: 3))
        #expect(self.draws(3, &triple, bits: .max) == [10, 30, 90])
        var capped = Backoff(policy: ReconnectPolicy(initialDelay: .seconds(60), maxDelay: .seconds(30)))
        #expect(self.draws(2, &capped, bits: .max) == [30_000, 30_000])
    }
}
