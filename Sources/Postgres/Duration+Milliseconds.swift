extension Duration {
    /// The duration in whole milliseconds, rounded up (so a wait of this length does not end just
    /// short of a deadline); 0 for zero or negative durations.
    var roundedUpMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        let partial = attoseconds % attosecondsPerMillisecond > 0 ? 1 : 0
        return max(0, seconds * 1_000 + attoseconds / attosecondsPerMillisecond + Int64(partial))
    }
}
