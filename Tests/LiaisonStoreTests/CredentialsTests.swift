import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import TestSupport
import Testing

@Suite struct CredentialsTests {
    @Test func tokensAreRandomStoredHashedAndChecked() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        try Accounts().add(Account(name: "ilo", kind: .entity), on: c)
        let credentials = Credentials()
        let token = try credentials.issue(for: "ilo", label: "test", on: c)
        #expect(token.hasPrefix("lia_"))
        #expect(token.count == 47)
        #expect(try credentials.issue(for: "ilo", on: c) != token)

        // Only the hash is stored.
        let stored = try c.query("SELECT token_hash FROM credentials").decode([UInt8].self, row: 0, column: 0)
        #expect(stored == Credentials.hash(token))
        let leaked = try c.query(
            "SELECT count(*) FROM credentials WHERE encode(token_hash, 'escape') LIKE $1",
            [("%" + token + "%").postgresBind]
        )
        #expect(try leaked.decode(Int64.self, row: 0, column: 0) == 0)

        #expect(try credentials.authenticate(account: "ilo", token: token, on: c)?.name == "ilo")
        #expect(try credentials.authenticate(account: "ilo", token: token + "x", on: c) == nil)
        #expect(try credentials.authenticate(account: "other", token: token, on: c) == nil)

        try credentials.revoke(account: "ilo", token: token, on: c)
        #expect(try credentials.authenticate(account: "ilo", token: token, on: c) == nil)
        #expect(throws: StoreError.self) { try credentials.revoke(account: "ilo", token: token, on: c) }
    }

    @Test func disabledAccountsAndExpiredTokensFail() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        try Accounts().add(Account(name: "iom", kind: .entity), on: c)
        let credentials = Credentials()
        let expired = try credentials.issue(for: "iom", expiresAt: Date(timeIntervalSinceNow: -1), on: c)
        #expect(try credentials.authenticate(account: "iom", token: expired, on: c) == nil)
        let live = try credentials.issue(for: "iom", on: c)
        #expect(try credentials.authenticate(account: "iom", token: live, on: c) != nil)
        try Accounts().setEnabled(false, name: "iom", on: c)
        #expect(try credentials.authenticate(account: "iom", token: live, on: c) == nil)
        #expect(throws: StoreError.self) { try credentials.issue(for: "nobody", on: c) }
    }
}
