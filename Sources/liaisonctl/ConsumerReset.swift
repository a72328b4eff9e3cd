import ArgumentParser
import Foundation
import LiaisonCore
import LiaisonStore

/// `liaisonctl consumer reset`.
struct ConsumerReset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Move a durable consumer's ack floor: redeliver from a seq or time, or skip to the head.",
        discussion: """
            The consumer next resumes at the position given: `new` skips everything published so far, \
            `all` redelivers the whole log, a seq redelivers from that seq, an RFC 3339 time from the first \
            message published at or after it. A session connected now keeps its position until it subscribes again.
            """
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup var actor: ActorOption

    @OptionGroup var consumer: ConsumerName

    @Option(help: ArgumentHelp("new, all, a seq (>= 1) or an RFC 3339 time.", valueName: "position"))
    var to: String

    func validate() throws {
        _ = try Self.position(self.to)
    }

    /// Parses `--to` as `SUB … from=` does: `0` is `all`.
    static func position(_ text: String) throws -> StartPosition {
        switch text {
        case "new": return .new
        case "all", "0": return .all
        default:
            if let seq = Int64(text), seq > 0 { return .seq(seq) }
            if let time = RFC3339.parse(text) { return .time(time) }
            throw ValidationError(
                "--to must be new, all, a seq >= 1 or an RFC 3339 time such as 2025-03-01T12:00:00Z, got '\(text)'"
            )
        }
    }

    func run() async throws {
        let account = self.consumer.account
        let name = self.consumer.name
        let start = try Self.position(self.to)
        let audit = self.actor.audit
        let to = self.to
        let info = try await self.database.run { connection in
            try audit.perform(on: connection) { connection in
                let before = try Consumers().find(account: account, name: name, on: connection)
                let info = try Consumers().reset(account: account, name: name, to: start, on: connection)
                let old = before.map { String($0.ackFloor) } ?? "?"
                let reason = "consumer \(name) ack floor \(old) -> \(info.ackFloor) (--to \(to))"
                return (info, [AdminChange(.consumerReset, account: account, reason: reason)])
            }
        }
        print("reset consumer \(name) of \(account) to ack floor \(info.ackFloor)")
    }
}
