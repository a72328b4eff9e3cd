import ArgumentParser
import Foundation
import LiaisonClient
import LiaisonCore

/// `liaisonctl sub`.
struct Sub: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Subscribe and print messages until --count, --timeout-ms, Ctrl-C or SIGTERM; exits 0.",
        discussion: """
            Text lines are `[seq] topic account time headers: payload`, the headers as the server sent \
            them (prio=, class=, liaison.delivery=, liaison.ahead=, ...) and left out when there are \
            none, and control characters of the payload (CR, LF, ...) shown as `.` so each message is \
            one line; --format jsonl prints one object per message with seq, sid, topic, account, \
            published_at, headers, size and payload_base64.

            When the link is lost, sub reconnects after a random wait (its ceiling 250 ms, doubling \
            to 30 s) and resumes: a --durable consumer where the server has it confirmed, any other \
            subscription from the seq after the last in-order message printed. It prints \
            `link lost: <reason>; reconnecting in <n> ms` and `resumed` to standard error, and does \
            not print a redelivered message twice. With --no-reconnect it stops instead (exit 0). \
            A --durable consumer without --ack confirms its position every 100 messages or 500 ms, \
            and on exit before QUIT. A first connection that fails exits 1.
            """
    )

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
    var format: SubOutput.Format = .text

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

    @Flag(help: "Stop when the link is lost instead of reconnecting.")
    var noReconnect = false

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
        let server = self.server
        let follower = Follower(
            sid: self.sid,
            pattern: self.pattern,
            options: self.followerOptions,
            reconnect: self.noReconnect ? .never : ReconnectPolicy(),
            connect: { try await server.connect() }
        )
        let output = SubOutput(format: self.format, count: self.count, acknowledges: self.ack)
        let timeout = self.timeoutMs
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await output.follow(follower)
                }
                if let timeout {
                    group.addTask {
                        try? await Task.sleep(for: .milliseconds(timeout))
                    }
                }
                group.addTask {
                    await InterruptSignal.wait()
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            await follower.stop()
            throw error
        }
        await follower.stop()
    }

    /// The `SUB` options these flags ask for.
    var followerOptions: FollowerOptions {
        FollowerOptions(durable: self.durable, ack: self.ack ? .explicit : .auto, from: self.from, reset: self.reset)
    }
}
