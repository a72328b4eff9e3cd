import Foundation

/// One connection that pipelines `PUB`s (at most `window` unanswered) from a thread of its own
/// until told to stop, and notes when each was sent and when and how it was answered: what a
/// test needs to hold the daemon to "every publish is answered within the publish timeout".
final class TimedPublisher: @unchecked Sendable {
    /// One `PUB`: its payload, when it went to the socket, and its reply with when it came.
    struct Record: Sendable {
        var payload: [UInt8]
        var sent: ContinuousClock.Instant
        var reply: ProcessClient.Reply?
        var answered: ContinuousClock.Instant?

        /// How long it waited for its reply (nil while unanswered).
        var latency: Duration? { self.answered.map { $0 - self.sent } }
    }

    private let client: ProcessClient
    private let topic: String
    private let label: String
    private let window: Int
    // Everything below is guarded by `lock` (which is what makes `@unchecked Sendable` safe).
    private let lock = NSCondition()
    private var records: [Record] = []
    private var answeredCount = 0
    private var sending = true
    private var readerDone = false
    private var closed = false

    /// Starts publishing on an authenticated `client`, payloads `<label> #<n>`.
    init(_ client: ProcessClient, topic: String, label: String, window: Int = 32) {
        self.client = client
        self.topic = topic
        self.label = label
        self.window = window
        Thread { self.sendLoop() }.start()
        Thread { self.readLoop() }.start()
    }

    /// A copy of the records so far, in sending order.
    var snapshot: [Record] {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.records
    }

    /// Whether the server closed the connection.
    var isClosed: Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.closed
    }

    /// Sends no more `PUB`s (the one being sent, if any, still goes out).
    func stopSending() {
        self.lock.lock()
        self.sending = false
        self.lock.broadcast()
        self.lock.unlock()
    }

    /// Stops sending and waits (blocking, at most `timeout`) until every `PUB` sent is answered or
    /// the connection closed.
    ///
    /// - Returns: All records.
    func finish(timeout: Duration) -> [Record] {
        self.stopSending()
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds))
        self.lock.lock()
        defer { self.lock.unlock() }
        while !self.readerDone && self.answeredCount < self.records.count && self.lock.wait(until: deadline) {}
        return self.records
    }

    private func sendLoop() {
        var index = 0
        while true {
            self.lock.lock()
            while self.sending && !self.closed && self.records.count - self.answeredCount >= self.window {
                self.lock.wait()
            }
            guard self.sending && !self.closed else {
                self.lock.unlock()
                return
            }
            let payload = Array("\(self.label) #\(index)".utf8)
            self.records.append(Record(payload: payload, sent: .now))
            self.lock.unlock()
            index += 1
            let frame = ProcessClient.Outgoing(topic: self.topic, payload: payload).frame
            guard (try? self.client.send(frame)) != nil else { return }
        }
    }

    private func readLoop() {
        while true {
            // A long timeout: a silent server is what the test measures, not an error here.
            let frame = try? self.client.nextFrame(timeout: .seconds(60))
            self.lock.lock()
            defer { self.lock.unlock() }
            guard let frame else {
                self.closed = true
                self.readerDone = true
                self.lock.broadcast()
                return
            }
            guard case .line(let line) = frame, line != "PING", self.answeredCount < self.records.count else {
                continue
            }
            self.records[self.answeredCount].reply = ProcessClient.Reply(line: line)
            self.records[self.answeredCount].answered = .now
            self.answeredCount += 1
            self.lock.broadcast()
        }
    }
}
