#if !FUZZING
import Foundation
import LiaisonServer

/// Replays a fuzz corpus without libFuzzer, so the normal `swift build` builds this target and a
/// crash file can be rerun under a debugger:
///
/// ```
/// swift run LiaisonFuzz fuzz/corpus fuzz/crashes/crash-1234
/// ```
///
/// Each argument is a file or a directory of files (default `fuzz/corpus`). Exits 1 after the
/// first input that breaks an invariant of ``FuzzHarness``, 2 when a path cannot be read.
@main
enum CorpusReplay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        let paths = arguments.isEmpty ? ["fuzz/corpus"] : Array(arguments)
        var count = 0
        do {
            for file in try paths.flatMap(Self.files(at:)) {
                let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
                do {
                    try FuzzHarness.check(bytes)
                } catch {
                    print("FAIL \(file): \(error)")
                    exit(1)
                }
                count += 1
            }
        } catch {
            print("cannot read the corpus: \(error)")
            exit(2)
        }
        print("OK \(count) inputs")
    }

    /// The regular files at `path`: itself, or the files directly inside it, sorted.
    private static func files(at path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        guard isDirectory.boolValue else {
            return [path]
        }
        return try FileManager.default.contentsOfDirectory(atPath: path).sorted()
            .filter { !$0.hasPrefix(".") }
            .map { "\(path)/\($0)" }
    }
}
#endif
