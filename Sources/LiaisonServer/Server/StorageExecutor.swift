import Foundation

/// A `TaskExecutor` of the daemon's own: a few threads that run the async work between the
/// sessions, the writer and the storage facade (awaiting answers, resuming continuations).
///
/// Without it that work would run on Swift's global cooperative pool, which has one thread per
/// core: on 2 cores, any code in the same process that blocks two of them (a test's blocking
/// socket read, a library's synchronous wait) would stop every publish and `AUTH` until it
/// returned. Jobs here only hop between awaits; libpq calls never run on these threads
/// (docs/ARCHITECTURE.md, invariant 4).
final class StorageExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` is only touched while holding `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0

    /// Starts `threads` threads (at least 1), named `name-1`, `name-2`, …; they live as long as
    /// the process.
    init(name: String, threads: Int) {
        for index in 1...max(1, threads) {
            let thread = Thread { [unowned(unsafe) self] in self.loop() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        self.condition.lock()
        self.jobs.append(unowned)
        self.condition.signal()
        self.condition.unlock()
    }

    private func loop() {
        while true {
            self.condition.lock()
            while self.head == self.jobs.count { self.condition.wait() }
            let job = self.jobs[self.head]
            self.head += 1
            if self.head == self.jobs.count {
                self.jobs.removeAll(keepingCapacity: true)
                self.head = 0
            }
            self.condition.unlock()
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }

    /// The daemon-wide instance (two threads: enough, since nothing blocks on them).
    static let shared = StorageExecutor(name: "liaison-async", threads: 2)
}
