import Foundation
import Testing

/// Runs the built `liaisonctl` (or `liaisond`) binary as a process, as a user would.
///
/// The binary is looked up in `LIAISON_BIN_DIR`, else in `.build/debug` of the package this file
/// belongs to. The child gets the test's environment without any `LIAISON_*` variable, so that a
/// developer's own settings never leak into a test; tests pass what they need explicitly.
enum CLI {
    /// The package root: three levels above this file (`Tests/CLITests/CLI.swift`).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The folder holding the built executables.
    static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["LIAISON_BIN_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        return packageRoot.appendingPathComponent(".build/debug")
    }

    /// The path of a built product, or a test failure saying how to build it.
    static func executable(_ name: String) throws -> URL {
        let url = binDirectory.appendingPathComponent(name)
        try #require(
            FileManager.default.isExecutableFile(atPath: url.path),
            "\(url.path) not found: run `swift build --product \(name)` or set LIAISON_BIN_DIR"
        )
        return url
    }

    /// The environment handed to children: the test's own, minus every `LIAISON_*` variable.
    static func baseEnvironment() -> [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("LIAISON_") }
    }

    /// Runs `liaisonctl` (or another built program) with `arguments` and waits for it to exit.
    ///
    /// - Parameters:
    ///   - arguments: The command line after the program name.
    ///   - environment: Variables added to ``baseEnvironment()``.
    ///   - stdin: Bytes for standard input (empty: an empty input).
    ///   - program: The executable, `liaisonctl` unless told (`liaisond` for start-up errors).
    /// - Returns: The exit status and everything printed.
    static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        stdin: [UInt8] = [],
        program: String = "liaisonctl"
    ) async throws -> CLIResult {
        let process = Process()
        process.executableURL = try executable(program)
        process.arguments = arguments
        process.environment = baseEnvironment().merging(environment) { _, new in new }
        process.currentDirectoryURL = FileManager.default.temporaryDirectory

        // Files rather than pipes: a child that prints more than a pipe holds cannot block.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("liaisonctl-test-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out")
        let errURL = scratch.appendingPathComponent("err")
        let inURL = scratch.appendingPathComponent("in")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: inURL.path, contents: Data(stdin))
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let input = try FileHandle(forReadingFrom: inURL)
        defer {
            try? out.close()
            try? err.close()
            try? input.close()
        }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input

        let status = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<Int32, any Error>) in
            process.terminationHandler = { process in
                continuation.resume(returning: process.terminationStatus)
            }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        return CLIResult(
            status: status,
            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self)
        )
    }
}
