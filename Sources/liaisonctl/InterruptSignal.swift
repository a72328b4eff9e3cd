import Dispatch
import Foundation

/// Turns SIGINT (Ctrl-C) and SIGTERM (`kill`, a service manager's stop) into an awaitable event,
/// so that `sub` stops cleanly (a durable `ack=auto` consumer confirms what it printed, then
/// `QUIT`) and exits 0, however it is stopped.
enum InterruptSignal {
    /// The signals that stop `sub` cleanly.
    static let signals = [SIGINT, SIGTERM]

    /// Returns when SIGINT or SIGTERM arrives or the task is cancelled; from the first call on,
    /// neither signal terminates the process.
    static func wait() async {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
        let sources = Self.signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                continuation.yield()
                continuation.finish()
            }
            source.resume()
            return source
        }
        for await _ in stream {
            break
        }
        for source in sources { source.cancel() }
    }
}
