import NIOConcurrencyHelpers
import NIOCore

/// One subscribed connection of a ``Follower``: the client, which attempt made it, and when the
/// server was last heard from (for the heartbeat).
final class FollowerLink: Sendable {
    /// The connected, authenticated and subscribed client.
    let client: LiaisonClient
    /// The attempt that made this link; inputs of older attempts are ignored.
    let generation: Int
    /// When the `SUB` was accepted.
    let subscribedAt: ContinuousClock.Instant
    private let lastHeard: NIOLockedValueBox<ContinuousClock.Instant>
    private let deadReason = NIOLockedValueBox<String?>(nil)

    /// Creates a link subscribed now.
    ///
    /// - Parameters:
    ///   - client: The subscribed client.
    ///   - generation: The attempt's number.
    init(client: LiaisonClient, generation: Int) {
        self.client = client
        self.generation = generation
        self.subscribedAt = .now
        self.lastHeard = NIOLockedValueBox(.now)
    }

    /// Notes that the server sent something.
    func heard() {
        self.lastHeard.withLockedValue { $0 = .now }
    }

    /// How long the server has been silent.
    var silence: Duration {
        ContinuousClock.now - self.lastHeard.withLockedValue { $0 }
    }

    /// Why the link was lost, for a person.
    var lossReason: String {
        self.deadReason.withLockedValue { $0 } ?? self.client.closeReason?.message ?? "the connection closed"
    }

    /// Reads the client's messages into `feed` until the connection closes, then reports the loss.
    ///
    /// - Parameter feed: The follower's input stream.
    func forward(to feed: AsyncStream<FollowerInput>.Continuation) async {
        for await message in self.client.messages {
            self.heard()
            feed.yield(.message(generation: self.generation, message))
        }
        feed.yield(.lost(generation: self.generation, reason: self.lossReason))
    }

    /// Probes a silent server: after `interval` of silence it sends `PING`, and when nothing at
    /// all arrives within another `interval` it closes the connection as dead. Returns when the
    /// connection is closed or the task is cancelled.
    ///
    /// - Parameter interval: The silence that triggers a probe, and the time the probe has.
    func keepAlive(every interval: Duration) async {
        while self.client.isOpen {
            guard (try? await Task.sleep(for: interval)) != nil else { return }
            guard self.silence >= interval else { continue }
            self.client.writePing { [weak self] in self?.heard() }
            guard (try? await Task.sleep(for: interval)) != nil else { return }
            if self.silence >= interval * 2 {
                self.deadReason.withLockedValue {
                    $0 = "no reply to PING within \(interval.wholeMilliseconds) ms"
                }
                await self.client.close()
                return
            }
        }
    }
}

extension LiaisonClient {
    /// Whether the connection is still open.
    var isOpen: Bool {
        self.channel.isActive
    }

    /// Writes `ACK <sid> <seq>` without waiting for its reply (`OK ACK` or `ERR` is read and
    /// dropped), so that acknowledgements leave in the order they are written.
    func writeAck(sid: String, seq: Int64) {
        _ = self.submit(Self.lineBuffer("ACK \(sid) \(seq)"), replies: 1)
    }

    /// Writes `PING` and calls `onReply` when its `PONG` arrives.
    func writePing(onReply: @escaping @Sendable () -> Void) {
        self.submit(Self.lineBuffer("PING"), replies: 1)[0].whenSuccess { _ in onReply() }
    }
}
