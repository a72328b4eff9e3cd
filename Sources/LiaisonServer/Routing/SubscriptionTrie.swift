import LiaisonCore

/// An index from topic patterns to subscribers, walked per topic token instead of testing every
/// subscription against every message.
///
/// The shape is the token trie of NATS' sublist and MQTT brokers' topic trees: each node has
/// literal children, one `*` child and a set of subscribers whose pattern ends in `>` there.
/// Matching a topic of `t` tokens visits at most the literal and `*` branches per level, so the
/// cost follows the number of patterns that could match, not the number of subscriptions.
///
/// Not thread-safe: ``Router`` guards it with a lock.
struct SubscriptionTrie<Key: Hashable, Value> {
    private final class Node {
        var literals: [Substring: Node] = [:]
        var single: Node?
        /// Subscribers whose pattern ends here (exact end of topic).
        var terminal: [Key: Value] = [:]
        /// Subscribers whose pattern ends with `>` after this node.
        var multi: [Key: Value] = [:]

        var isEmpty: Bool { literals.isEmpty && single == nil && terminal.isEmpty && multi.isEmpty }
    }

    private var root = Node()
    private(set) var count = 0

    /// Adds or replaces `value` under `key` for `pattern`.
    mutating func insert(_ pattern: TopicPattern, key: Key, value: Value) {
        var node = self.root
        for token in pattern.tokens {
            switch token {
            case .literal(let text):
                let name = Substring(text)
                if let next = node.literals[name] {
                    node = next
                } else {
                    let next = Node()
                    node.literals[name] = next
                    node = next
                }
            case .single:
                if let next = node.single {
                    node = next
                } else {
                    let next = Node()
                    node.single = next
                    node = next
                }
            case .multi:
                if node.multi.updateValue(value, forKey: key) == nil { self.count += 1 }
                return
            }
        }
        if node.terminal.updateValue(value, forKey: key) == nil { self.count += 1 }
    }

    /// Removes `key` from `pattern`, pruning nodes left empty.
    ///
    /// - Returns: Whether it was there.
    @discardableResult
    mutating func remove(_ pattern: TopicPattern, key: Key) -> Bool {
        var path: [(Node, TopicPattern.Token)] = []
        var node = self.root
        var removed = false
        for token in pattern.tokens {
            switch token {
            case .literal(let text):
                guard let next = node.literals[Substring(text)] else { return false }
                path.append((node, token))
                node = next
            case .single:
                guard let next = node.single else { return false }
                path.append((node, token))
                node = next
            case .multi:
                removed = node.multi.removeValue(forKey: key) != nil
            }
            if removed { break }
        }
        if !removed, pattern.tokens.last != .multi {
            removed = node.terminal.removeValue(forKey: key) != nil
        }
        guard removed else { return false }
        self.count -= 1
        // Prune from the deepest node up while nodes are empty.
        var child = node
        for (parent, token) in path.reversed() {
            guard child.isEmpty else { break }
            switch token {
            case .literal(let text): parent.literals[Substring(text)] = nil
            case .single: parent.single = nil
            case .multi: break
            }
            child = parent
        }
        return true
    }

    /// Calls `body` for every subscriber whose pattern matches `topic` (each (key) at most once per
    /// pattern it is stored under).
    func forEachMatch(_ topic: Topic, _ body: (Key, Value) -> Void) {
        let tokens = topic.tokens
        Self.visit(self.root, tokens[...], body)
    }

    private static func visit(_ node: Node, _ rest: ArraySlice<Substring>, _ body: (Key, Value) -> Void) {
        guard let token = rest.first else {
            for (key, value) in node.terminal { body(key, value) }
            return
        }
        // `>` needs one or more remaining tokens: we have at least one here.
        for (key, value) in node.multi { body(key, value) }
        let tail = rest.dropFirst()
        if let next = node.literals[token] { visit(next, tail, body) }
        if let next = node.single { visit(next, tail, body) }
    }
}
