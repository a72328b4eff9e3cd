import Crypto
public import Foundation

/// One numbered SQL file from the `migrations/` folder, such as `0001_initial.sql`.
public struct Migration: Sendable, Equatable {
    /// The number before the first underscore (1 for `0001_initial.sql`).
    public var version: Int
    /// The file name without its `.sql` extension, e.g. `0001_initial`.
    public var name: String
    /// The SQL text, applied with the simple query protocol inside one transaction.
    public var sql: String
    /// Lower-case hex SHA-256 of the file's bytes: a changed, already-applied file is refused.
    public var checksum: String

    /// Creates a migration from its file name and contents.
    ///
    /// - Throws: ``StoreError`` `.invalid` when the name is not `NNNN_words.sql`.
    public init(fileName: String, contents: Data) throws(StoreError) {
        guard fileName.hasSuffix(".sql"),
            let underscore = fileName.firstIndex(of: "_"),
            let version = Int(fileName[..<underscore]), version > 0
        else {
            throw StoreError(.invalid, "migration file name '\(fileName)' is not NNNN_name.sql")
        }
        guard let sql = String(data: contents, encoding: .utf8) else {
            throw StoreError(.invalid, "migration '\(fileName)' is not UTF-8")
        }
        self.version = version
        self.name = String(fileName.dropLast(4))
        self.sql = sql
        self.checksum = SHA256.hash(data: contents).map { String(format: "%02x", $0) }.joined()
    }

    /// Loads every `NNNN_*.sql` file of a folder, sorted by version.
    ///
    /// - Parameter directory: The folder, e.g. `migrations`.
    /// - Returns: The migrations in ascending version order.
    /// - Throws: ``StoreError`` `.invalid` if the folder is unreadable, a name is malformed, or two
    ///   files share a version.
    public static func load(from directory: URL) throws(StoreError) -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw StoreError(.invalid, "cannot read migrations folder \(directory.path): \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        for name in names where name.hasSuffix(".sql") {
            let url = directory.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw StoreError(.invalid, "cannot read \(url.path)")
            }
            migrations.append(try Migration(fileName: name, contents: data))
        }
        migrations.sort { $0.version < $1.version }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version {
            throw StoreError(.invalid, "migrations \(a.name) and \(b.name) share version \(a.version)")
        }
        return migrations
    }

    /// Finds the migrations folder: `LIAISON_MIGRATIONS_DIR`, then `./migrations`, then the checkout
    /// the executable was built in (`.build/<config>/` → `../../migrations`), then
    /// `/usr/share/liaison/migrations`.
    ///
    /// - Returns: The first folder that exists, or `nil`.
    public static func defaultDirectory() -> URL? {
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["LIAISON_MIGRATIONS_DIR"], !env.isEmpty {
            candidates.append(URL(fileURLWithPath: env))
        }
        candidates.append(
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("migrations")
        )
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            folder = folder.deletingLastPathComponent()
            candidates.append(folder.appendingPathComponent("migrations"))
        }
        candidates.append(URL(fileURLWithPath: "/usr/share/liaison/migrations"))
        return candidates.first { url in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
                && FileManager.default.fileExists(atPath: url.appendingPathComponent("0001_initial.sql").path)
        }
    }
}
