import Foundation
import LiaisonCore
import LiaisonStore

/// The JSON file `account import` reads, as in `config/network.json`:
/// `{ "network": "...", "accounts": [ {name, kind, parent?, country?, role?, display_name?} ] }`.
struct NetworkFile: Decodable {
    /// One account entry.
    struct Entry: Decodable {
        var name: String
        var kind: String
        var parent: String?
        var country: String?
        var role: String?
        var displayName: String?

        enum CodingKeys: String, CodingKey {
            case name, kind, parent, country, role
            case displayName = "display_name"
        }
    }

    var network: String?
    var accounts: [Entry]

    /// Reads and decodes a file.
    ///
    /// - Throws: ``CLIFailure`` naming the file and what is wrong with it.
    static func load(path: String) throws -> NetworkFile {
        let data = try FileContents.read(path, what: "the network file")
        do {
            return try JSONDecoder().decode(NetworkFile.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw CLIFailure("\(path): missing \"\(key.stringValue)\" at \(Self.path(context.codingPath))")
        } catch let DecodingError.typeMismatch(_, context) {
            throw CLIFailure("\(path): wrong type at \(Self.path(context.codingPath))")
        } catch let DecodingError.dataCorrupted(context) {
            throw CLIFailure("\(path): not valid JSON (\(context.debugDescription))")
        } catch {
            throw CLIFailure("\(path): \(error)")
        }
    }

    /// The entries as accounts.
    ///
    /// - Throws: ``CLIFailure`` for an unknown kind or role, naming the account.
    func makeAccounts() throws -> [Account] {
        try self.accounts.map { entry in
            guard let kind = AccountKind(rawValue: entry.kind) else {
                throw CLIFailure("account '\(entry.name)': kind must be entity or office, got '\(entry.kind)'")
            }
            let roleText = entry.role ?? AccountRole.member.rawValue
            guard let role = AccountRole(rawValue: roleText) else {
                throw CLIFailure("account '\(entry.name)': role must be member or admin, got '\(roleText)'")
            }
            return Account(
                name: entry.name,
                kind: kind,
                parent: entry.parent,
                country: entry.country,
                role: role,
                displayName: entry.displayName ?? ""
            )
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}
