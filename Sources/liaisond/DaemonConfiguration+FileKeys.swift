import Foundation
import LiaisonServer

extension DaemonConfiguration {
    /// The largest configuration file the daemon reads, in bytes (1 MiB; a real one is a few KiB).
    ///
    /// swift-configuration's JSON parse grows with the square of the number of keys (a 3.5 MB
    /// file of 200 000 keys took 65 s, holding a core and any later `SIGHUP`), so a larger file is
    /// refused before it is parsed.
    static let maxFileBytes = 1 << 20

    /// Reads the configuration file's bytes before the file provider parses it, refusing one
    /// larger than ``maxFileBytes``.
    ///
    /// - Parameter file: The JSON file's path.
    /// - Returns: Its bytes; `nil` when it does not exist (the provider decides whether that is
    ///   allowed).
    /// - Throws: ``Invalid`` (key `file`) for a file that is too large.
    static func contentsBeforeParsing(_ file: String) throws -> Data? {
        guard let data = FileManager.default.contents(atPath: file) else { return nil }
        guard data.count <= Self.maxFileBytes else {
            throw Invalid(
                key: "file",
                message:
                    "\(file) is \(data.count) bytes, more than the \(Self.maxFileBytes) a configuration file may have"
            )
        }
        return data
    }

    /// Refuses a configuration file holding a key the daemon does not read
    /// (``ConfigurationFileKeys``), at start and on reload alike: `configuration error
    /// (limits.maxConection): unknown key at line 3 of /etc/liaison/liaisond.json (did you mean
    /// limits.maxConnections?)`.
    ///
    /// The keys are checked in `read`, the bytes read before the file provider parsed the file;
    /// if the file no longer holds those bytes (it was replaced while it was parsed), it is
    /// refused, so the keys checked are always those of the values applied.
    ///
    /// - Parameters:
    ///   - file: The JSON file, already parsed by the file provider.
    ///   - read: Its bytes from ``contentsBeforeParsing(_:)``; `nil` for a missing file, which passes.
    /// - Throws: ``Invalid`` naming the first unknown key, its line and the file; or (key `file`)
    ///   when the file changed while it was read.
    static func refuseUnknownKeys(in file: String, read: Data?) throws {
        guard let read else { return }
        guard FileManager.default.contents(atPath: file) == read else {
            throw Invalid(key: "file", message: "\(file) changed while it was being read; try again")
        }
        guard let unknown = ConfigurationFileKeys.firstUnknown(inJSON: String(decoding: read, as: UTF8.self)) else {
            return
        }
        let message =
            unknown.isObjectForValue
            ? "\(file), line \(unknown.line): an object where a value is expected"
            : "unknown key at line \(unknown.line) of \(file)"
                + (unknown.suggestion.map { " (did you mean \($0)?)" } ?? "")
        throw Invalid(key: unknown.key, message: message)
    }
}
