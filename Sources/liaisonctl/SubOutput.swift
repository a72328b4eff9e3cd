import ArgumentParser
import Foundation
import LiaisonClient

/// What `liaisonctl sub` prints: messages to standard output, link changes to standard error.
struct SubOutput: Sendable {
    /// The output formats.
    enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
        case text
        case jsonl
    }

    /// How messages are printed.
    var format: Format
    /// Stop after this many messages, or `nil`.
    var count: Int?
    /// Whether each message is acknowledged after it is printed (`ack=explicit`).
    var acknowledges: Bool

    /// Prints the follower's messages until `count` is reached or the follower ends.
    ///
    /// - Throws: What the follower throws (its first connection failed, or a reconnect was refused).
    func follow(_ follower: Follower) async throws {
        var received = 0
        var everConnected = false
        var linkUp = false
        var downReason: String?
        for try await event in follower {
            switch event {
            case .connected:
                if everConnected { Self.notice("resumed") }
                everConnected = true
                linkUp = true
            case .message(let message):
                // A reader that went away (`| head`) ends the follow quietly: no crash, and the
                // final confirmation still goes out.
                guard
                    (try? FileHandle.standardOutput.write(
                        contentsOf: Data((Self.render(message, format: self.format) + "\n").utf8)
                    )) != nil
                else {
                    return
                }
                if self.acknowledges { follower.ack(seq: message.seq) }
                received += 1
                if let count = self.count, received >= count {
                    return
                }
            case .disconnected(let reason):
                downReason = linkUp ? "link lost: \(reason)" : "reconnect failed: \(reason)"
                linkUp = false
            case .reconnecting(let milliseconds):
                Self.notice("\(downReason ?? "link lost"); reconnecting in \(milliseconds) ms")
                downReason = nil
            }
        }
        if let downReason {
            Self.notice(downReason)
        }
    }

    /// Writes one line to standard error.
    static func notice(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// One message as a line of output: in text, `[seq] topic account time headers: payload`, the
    /// headers as sent and left out when there are none, the payload's control characters as `.`.
    static func render(_ message: ReceivedMessage, format: Format) -> String {
        switch format {
        case .text:
            let headers = message.headerText.isEmpty ? "" : " " + message.headerText
            return
                "[\(message.seq)] \(message.topic) \(message.account) \(message.publishedAt)\(headers): "
                + PrintableText.line(message.payload)
        case .jsonl:
            return JSONLine.encode([
                "seq": message.seq, "sid": message.sid, "topic": message.topic, "account": message.account,
                "published_at": message.publishedAt, "headers": message.headers, "size": message.payload.count,
                "payload_base64": Data(message.payload).base64EncodedString(),
            ])
        }
    }
}
