import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import LiaisonClient

/// `bench --rate` and `--duration`: the pacing of the publish window.
@Suite struct PublishPacingTests {
    @Test func aRateBecomesTheIntervalBetweenWrites() {
        #expect(PublishPacing(rate: 200).interval == .milliseconds(5))
        #expect(PublishPacing(rate: 3).interval == .nanoseconds(333_333_333))
        #expect(PublishPacing(rate: nil).interval == nil)
        #expect(PublishPacing(rate: 0).interval == nil)
        #expect(PublishPacing().deadline == nil)
    }

    @Test func aDeadlineAlreadyPastWritesNothingAndFinishes() throws {
        let channel = EmbeddedChannel()
        let pacing = PublishPacing(interval: nil, deadline: .now - .seconds(1))
        let window = PublishWindow(channel: channel, count: 10, window: 4, pacing: pacing) { _ in
            ("bench.t", [1, 2, 3], [])
        }
        // Read without blocking: a window that ignored the deadline would never finish here.
        let result = NIOLockedValueBox<WindowedPublishReport?>(nil)
        window.start().whenSuccess { report in result.withLockedValue { $0 = report } }
        channel.embeddedEventLoop.run()
        let report = try #require(result.withLockedValue { $0 })
        #expect(report.acknowledged == 0)
        #expect(report.errors.isEmpty)
        #expect(try channel.readOutbound(as: ClientRequest.self) == nil)
    }
}
