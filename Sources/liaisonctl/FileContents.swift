import Foundation

/// Reads the files the CLI is given (a payload, a token, a network file), failing with the
/// file, what it was for and the system's reason: `cannot read the token file /x: permission denied`.
enum FileContents {
    /// The bytes of the file at `path`.
    ///
    /// - Parameter what: What the file is for, e.g. `the token file`.
    /// - Throws: ``CLIFailure`` when the file cannot be opened or read.
    static func read(_ path: String, what: String) throws -> Data {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CLIFailure("cannot read \(what) \(path): \(Self.reason(EISDIR))")
        }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw CLIFailure("cannot read \(what) \(path): \(Self.reason(errno))")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            return try handle.readToEnd() ?? Data()
        } catch {
            throw CLIFailure("cannot read \(what) \(path): \(error.localizedDescription)")
        }
    }

    /// `strerror`'s words in lower case, as the rest of a message: `no such file or directory`.
    private static func reason(_ code: CInt) -> String {
        String(cString: strerror(code)).lowercased()
    }
}
