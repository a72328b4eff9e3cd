import LiaisonCore
import NIOConcurrencyHelpers
import NIOCore

/// Fans committed messages out to the subscriptions whose patterns select them.
///
/// The writer calls ``publish(_:)`` once per committed batch, from one thread, in seq order;
/// each sink then receives one task per batch on its event loop, so per-connection order is the
/// commit order (NIO runs a loop's tasks in the order they were submitted).
// @unchecked: the trie holds reference-type nodes, but it is only touched under `state`'s lock.
final class Router: @unchecked Sendable {
    struct Key: Hashable {
        var subscriptionID: UInt64
    }

    struct Entry {
        var sid: String
        var sink: any MessageSink
    }

    private struct State {
        var trie = SubscriptionTrie<Key, Entry>()
    }

    // Safe to share: all state sits behind this lock.
    private let state = NIOLockedValueBox(State())

    init() {}

    /// The number of live subscriptions in the index.
    var subscriptionCount: Int { self.state.withLockedValue { $0.trie.count } }

    /// Starts routing messages that match `pattern` to `sink` under `sid`.
    func subscribe(_ pattern: TopicPattern, sid: String, subscriptionID: UInt64, sink: any MessageSink) {
        self.state.withLockedValue {
            $0.trie.insert(pattern, key: Key(subscriptionID: subscriptionID), value: Entry(sid: sid, sink: sink))
        }
    }

    /// Stops routing for a subscription.
    func unsubscribe(_ pattern: TopicPattern, subscriptionID: UInt64) {
        self.state.withLockedValue { _ = $0.trie.remove(pattern, key: Key(subscriptionID: subscriptionID)) }
    }

    /// Routes one committed batch. Matching runs under the lock; delivery runs on each sink's loop.
    func publish(_ messages: [Message]) {
        var bySink: [ObjectIdentifier: (sink: any MessageSink, deliveries: [Delivery])] = [:]
        self.state.withLockedValue { state in
            for message in messages {
                state.trie.forEachMatch(message.topic) { key, entry in
                    let delivery = Delivery(sid: entry.sid, subscriptionID: key.subscriptionID, message: message)
                    bySink[ObjectIdentifier(entry.sink), default: (entry.sink, [])].deliveries.append(delivery)
                }
            }
        }
        for (_, target) in bySink {
            let sink = target.sink
            let deliveries = target.deliveries
            sink.eventLoop.execute { sink.deliver(deliveries) }
        }
    }
}
