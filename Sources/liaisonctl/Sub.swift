import ArgumentParser
import Foundation
import LiaisonClient

/// `liaisonctl sub`.
struct Sub: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Subscribe and print messages until --count, --timeout-ms or Ctrl-C; exits 0.",
        discussion: """
            Text lines are `[seq] topic account time: payload`; --format jsonl prints one object per \
            message with seq, sid, topic, account, published_at, headers, size and payload_base64.
            """
    )

    /// The output formats.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text
        case jsonl
    }

    @OptionGroup var server: ServerOptions

    @Argument(help: "A topic pattern, e.g. 'field.*.*.early-warning' or 'hq.>'.")
    var pattern: String

    @Option(help: ArgumentHelp("new (default), all, a seq, or an RFC 3339 time to start from.", valueName: "position"))
    var from: String?

    @Option(help: ArgumentHelp("Stop after N messages.", valueName: "n"))
    var count: Int?

    @Option(help: ArgumentHelp("Stop after this many milliseconds.", valueName: "ms"))
    var timeoutMs: Int?

    @Option(help: "text or jsonl.")
    var format: Format = .text

    @Option(help: ArgumentHelp("The subscription id.", valueName: "sid"))
    var sid: String = "s1"

    @Option(
        help: ArgumentHelp(
            "Subscribe as this durable consumer: the server remembers the position across reconnects.",
            valueName: "name"
        )
    )
    var durable: String?

    @Flag(help: "Acknowledge each message after printing it (ack=explicit: at-least-once to stdout).")
    var ack = false

    @Flag(help: "With --durable: move an existing consumer to --from (default new).")
    var reset = false

    func validate() throws {
        if let count = self.count, count < 1 {
            throw ValidationError("--count must be at least 1")
        }
        if let timeout = self.timeoutMs, timeout < 1 {
            throw ValidationError("--timeout-ms must be at least 1")
        }
        if self.reset && self.durable == nil {
            throw ValidationError("--reset needs --durable")
        }
    }

    func run() async throws {
        let client = try await self.server.connect()
        do {
            try await client.subscribe(
                sid: self.sid,
                pattern: self.pattern,
                options: self.subscribeOptions
            )
        } catch {
            await client.close()
            throw error
        }
        let count = self.count
        let format = self.format
        let acknowledge = self.ack
        let sid = self.sid
        let timeout = self.timeoutMs
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var received = 0
                for await message in client.messages {
                    FileHandle.standardOutput.write(Data((Self.render(message, format: format) + "\n").utf8))
                    if acknowledge { try? await client.ack(sid: sid, seq: message.seq) }
                    received += 1
                    if let count, received >= count {
                        return
                    }
                }
            }
            if let timeout {
                group.addTask {
                    try? await Task.sleep(for: .milliseconds(timeout))
                }
            }
            group.addTask {
                await InterruptSignal.wait()
            }
            await group.next()
            group.cancelAll()
        }
        try? await client.quit()
        await client.close()
    }

    /// The `SUB` options these flags ask for.
    var subscribeOptions: [(String, String)] {
        var options: [(String, String)] = []
        if let from = self.from { options.append(("from", from)) }
        if let durable = self.durable { options.append(("durable", durable)) }
        if self.ack { options.append(("ack", "explicit")) }
        if self.reset { options.append(("reset", "true")) }
        return options
    }

    /// One message as a line of output.
    static func render(_ message: ReceivedMessage, format: Format) -> String {
        switch format {
        case .text:
            return "[\(message.seq)] \(message.topic) \(message.account) \(message.publishedAt): \(message.text)"
        case .jsonl:
            return JSONLine.encode([
                "seq": message.seq, "sid": message.sid, "topic": message.topic, "account": message.account,
                "published_at": message.publishedAt, "headers": message.headers, "size": message.payload.count,
                "payload_base64": Data(message.payload).base64EncodedString(),
            ])
        }
    }
}
