public import LiaisonCore
import Postgres
import Synchronization

extension PostgresStorage: LogFollowing {
    public func headSeq() async throws -> Int64 {
        try await DeadlineCall.run("read head seq", on: self.follower, deadline: self.deadline) { connection in
            try MessageLog().headSeq(on: connection)
        }
    }

    public func committed(after: Int64, before: Int64?, limit: Int) async throws -> [Message] {
        try await DeadlineCall.run("follow the log", on: self.follower, deadline: self.deadline) { connection in
            try MessageLog().read(after: after, before: before, limit: limit, on: connection)
        }
    }

    public func waitForCommits(timeoutMilliseconds: Int) async throws -> Int64? {
        // The wait plus a second: a hung database is noticed in about that, not the call timeout.
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds + 1_000)
        return try await DeadlineCall.run("wait for commits", on: self.listener, deadline: deadline) { connection in
            let pid = connection.backendPID
            if self.listening.withLock({ $0 }) != pid {
                // A new connection: LISTEN again, and say nothing was notified (what was sent
                // while no connection listened is lost, so the caller looks at the log).
                try connection.listen(MessageLog.commitChannel)
                self.listening.withLock { $0 = pid }
                return nil
            }
            let notifications = try connection.waitForNotifications(timeoutMilliseconds: timeoutMilliseconds)
            return notifications.compactMap { Int64($0.payload) }.max()
        }
    }
}
