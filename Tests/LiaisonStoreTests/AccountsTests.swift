import Foundation
import LiaisonCore
import LiaisonStore
import Postgres
import TestSupport
import Testing

@Suite struct AccountsTests {
    @Test func addListDisableAndImport() throws {
        let db = try TestDatabase.create()
        defer { db.drop() }
        let c = try db.connect()
        let accounts = Accounts()
        try accounts.add(Account(name: "unhcr", kind: .entity, displayName: "UNHCR"), on: c)
        try accounts.add(
            Account(name: "unhcr-mm-sittwe", kind: .office, parent: "unhcr", country: "mm"),
            on: c
        )
        let conflict = #expect(throws: StoreError.self) {
            try accounts.add(Account(name: "unhcr", kind: .entity), on: c)
        }
        #expect(conflict?.code == .conflict)
        let orphan = #expect(throws: StoreError.self) {
            try accounts.add(Account(name: "x-office", kind: .office, parent: "nobody"), on: c)
        }
        #expect(orphan?.code == .notFound)

        try accounts.setEnabled(false, name: "unhcr-mm-sittwe", on: c)
        let office = try #require(try accounts.find("unhcr-mm-sittwe", on: c))
        #expect(office.enabled == false)
        #expect(office.parent == "unhcr")
        #expect(office.country == "mm")
        #expect(throws: StoreError.self) { try accounts.setEnabled(false, name: "ghost", on: c) }

        // Offices listed before their parent in the input still import.
        let result = try accounts.importAll(
            [
                Account(name: "ohchr-co-bogota", kind: .office, parent: "ohchr", country: "co"),
                Account(name: "ohchr", kind: .entity, displayName: "OHCHR"),
                Account(name: "unhcr", kind: .entity, displayName: "UN Refugee Agency"),
            ],
            on: c
        )
        #expect(result.inserted == 2)
        #expect(result.updated == 1)
        #expect(try accounts.find("unhcr", on: c)?.displayName == "UN Refugee Agency")
        #expect(
            try accounts.list(on: c).map(\.name).sorted() == ["ohchr", "ohchr-co-bogota", "unhcr", "unhcr-mm-sittwe"]
        )
    }

    @Test(arguments: [
        Account(name: "Upper", kind: .entity),
        Account(name: "-dash", kind: .entity),
        Account(name: "has space", kind: .entity),
        Account(name: String(repeating: "a", count: 65), kind: .entity),
        Account(name: "office", kind: .office),
        Account(name: "office", kind: .office, parent: "x", country: "MMR"),
    ])
    func rejectsInvalidAccounts(_ account: Account) throws {
        let error = #expect(throws: StoreError.self) { try account.validate() }
        #expect(error?.code == .invalid)
    }
}
