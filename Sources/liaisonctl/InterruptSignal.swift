import Dispatch
import Foundation

/// Turns SIGINT (Ctrl-C) into an awaitable event, so that `sub` can stop cleanly and exit 0.
enum InterruptSignal {
    /// Returns when SIGINT arrives or the task is cancelled; while it waits, SIGINT does not
    /// terminate the process.
    static func wait() async {
        signal(SIGINT, SIG_IGN)
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            continuation.yield()
            continuation.finish()
        }
        source.resume()
        for await _ in stream {
            break
        }
        source.cancel()
    }
}
