/// The resident memory of a process as Linux reports it, for `bench --idle-connections`.
public enum ProcessMemory {
    /// The `VmRSS:` line of a `/proc/<pid>/status` text, in bytes (the kernel prints kB = KiB).
    ///
    /// - Parameter status: The whole file's text.
    /// - Returns: Resident bytes, or `nil` when there is no well-formed `VmRSS:` line.
    public static func residentBytes(status: String) -> Int? {
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.dropFirst("VmRSS:".count).split(separator: " ", omittingEmptySubsequences: true)
                .flatMap { $0.split(separator: "\t") }
            guard fields.count == 2, fields[1] == "kB", let kibibytes = Int(fields[0]) else {
                return nil
            }
            return kibibytes * 1024
        }
        return nil
    }

    /// Bytes per connection: the growth of resident memory divided by the connections opened;
    /// 0 when none were.
    ///
    /// - Parameters:
    ///   - before: Resident bytes before opening them.
    ///   - after: Resident bytes with all of them open.
    ///   - connections: How many were open.
    public static func bytesPerConnection(before: Int, after: Int, connections: Int) -> Double {
        connections > 0 ? Double(after - before) / Double(connections) : 0
    }
}
