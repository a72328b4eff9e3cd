import Foundation
import LiaisonServer

extension DaemonConfiguration {
    /// Refuses a configuration file holding a key the daemon does not read
    /// (``ConfigurationFileKeys``), at start and on reload alike: `configuration error
    /// (limits.maxConection): unknown key at line 3 of /etc/liaison/liaisond.json (did you mean
    /// limits.maxConnections?)`.
    ///
    /// - Parameter file: The JSON file, already parsed by the file provider; a missing one passes.
    /// - Throws: ``Invalid`` naming the first unknown key, its line and the file.
    static func refuseUnknownKeys(in file: String) throws {
        guard let data = FileManager.default.contents(atPath: file),
            let unknown = ConfigurationFileKeys.firstUnknown(inJSON: String(decoding: data, as: UTF8.self))
        else { return }
        let message =
            unknown.isObjectForValue
            ? "\(file), line \(unknown.line): an object where a value is expected"
            : "unknown key at line \(unknown.line) of \(file)"
                + (unknown.suggestion.map { " (did you mean \($0)?)" } ?? "")
        throw Invalid(key: unknown.key, message: message)
    }
}
