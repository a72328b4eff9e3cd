internal import Foundation

/// The FIFO queue the threads of a ``PostgresWorker`` or ``PostgresPool`` take jobs from.
///
/// `@unchecked Sendable`: every stored property is read and written only while holding `condition`.
final class JobQueue: @unchecked Sendable {
    private let condition = NSCondition()
    /// Pending jobs; `head` is the next one. Compacted when half of the storage is consumed, so
    /// dequeuing is O(1) amortised without a deque dependency.
    private var jobs: [PostgresJob] = []
    private var head = 0
    private var isShutDown = false
    private var startedThreads = 0
    private var liveThreads = 0
    private var threadIDs: Set<ObjectIdentifier> = []

    /// The number of jobs waiting (not yet started).
    var depth: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count - head
    }

    /// Appends a job and wakes one thread.
    ///
    /// - Returns: `false` (and the job is not queued) after ``shutDown()``.
    func enqueue(_ job: PostgresJob) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !isShutDown else {
            return false
        }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Blocks until a job is available and returns it; `nil` once shut down and drained.
    func next() -> PostgresJob? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count && !isShutDown {
            condition.wait()
        }
        guard head < jobs.count else {
            return nil
        }
        let job = jobs[head]
        head += 1
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024 && head * 2 > jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }

    /// Registers the calling thread as one of the queue's threads.
    func threadStarted() {
        condition.lock()
        defer { condition.unlock() }
        startedThreads += 1
        liveThreads += 1
        threadIDs.insert(ObjectIdentifier(Thread.current))
    }

    /// Unregisters the calling thread and wakes ``shutDown()`` waiters.
    func threadEnded() {
        condition.lock()
        defer { condition.unlock() }
        liveThreads -= 1
        threadIDs.remove(ObjectIdentifier(Thread.current))
        condition.broadcast()
    }

    /// Refuses new jobs, lets the threads drain the queue, and blocks until they all ended —
    /// unless called from one of them, which cannot wait for itself.
    ///
    /// - Parameters:
    ///   - expectedThreads: Threads started but perhaps not yet registered.
    ///   - wait: `false` to return at once (from a deinit, which may run on a worker thread).
    func shutDown(expectedThreads: Int, wait: Bool = true) {
        condition.lock()
        defer { condition.unlock() }
        isShutDown = true
        condition.broadcast()
        if !wait || threadIDs.contains(ObjectIdentifier(Thread.current)) {
            return
        }
        // Threads register asynchronously; wait until all have started and then ended.
        while liveThreads > 0 || startedThreads < expectedThreads {
            condition.wait()
        }
    }
}
