import LiaisonCore
import Testing

@Suite struct HeadersTests {
    @Test func keepsOrderAndReadsKnownKeys() throws {
        let headers = try Headers(parsing: ["z=1", "id=gn-19", "prio=flash", "class=confidential", "a.b-c_d=x=y"])
        #expect(headers.map(\.key) == ["z", "id", "prio", "class", "a.b-c_d"])
        #expect(headers["a.b-c_d"] == "x=y")
        #expect(headers.id == "gn-19")
        #expect(headers.priority == .flash)
        #expect(headers.classification == .confidential)
        #expect(headers.wireText == "z=1 id=gn-19 prio=flash class=confidential a.b-c_d=x=y")
        #expect(headers.count == 5)
    }

    @Test func defaultsWhenAbsent() {
        let headers = Headers()
        #expect(headers.isEmpty)
        #expect(headers.id == nil)
        #expect(headers.priority == .routine)
        #expect(headers.classification == .internal)
        #expect(headers.wireText == "")
    }

    @Test func acceptsNonASCIIValues() throws {
        let headers = try Headers(parsing: ["region=Rakhine-\u{1000}\u{103C}", "note=caf\u{E9}"])
        #expect(headers["note"] == "caf\u{E9}")
    }

    @Test(arguments: [
        ("novalue", "expected key=value"),
        ("=v", "must be 1-64 bytes"),
        ("k=", "must be 1-1024 bytes"),
        (String(repeating: "k", count: 65) + "=v", "must be 1-64 bytes"),
        ("k=" + String(repeating: "v", count: 1025), "must be 1-1024 bytes"),
        ("k*=v", "may hold only"),
        ("k\u{E9}=v", "may hold only"),
        ("k=a\u{7F}", "space or control"),
        ("k=a\u{85}", "space or control"),
        ("k=a\u{0}", "space or control"),
        ("id=" + String(repeating: "i", count: 129), "id must be 1-128 bytes"),
        ("prio=high", "prio must be flash, urgent or routine"),
        ("prio=FLASH", "prio must be"),
        ("class=secret", "class must be public"),
    ])
    func rejectsInvalidTokens(token: String, reason: String) {
        let error = #expect(throws: ProtocolError.self) { try Headers(parsing: [token[...]]) }
        #expect(error?.code == .badRequest)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
    }

    @Test func acceptsLimitsExactly() throws {
        let key = String(repeating: "k", count: 64)
        let value = String(repeating: "v", count: 1024)
        let id = String(repeating: "i", count: 128)
        let headers = try Headers(parsing: ["\(key)=\(value)"[...], "id=\(id)"[...]])
        #expect(headers[key] == value)
        #expect(headers.id == id)
    }

    @Test func rejectsDuplicateKeys() {
        let error = #expect(throws: ProtocolError.self) { try Headers(parsing: ["a=1", "b=2", "a=3"]) }
        #expect(error?.message.contains("duplicate key \"a\"") == true)
    }

    @Test func setReplacesInPlaceOrAppends() throws {
        var headers = try Headers(parsing: ["a=1", "b=2"])
        try headers.set("a", "9")
        try headers.set("c", "3")
        #expect(headers.wireText == "a=9 b=2 c=3")
        #expect(throws: ProtocolError.self) { try headers.set("prio", "soon") }
        #expect(throws: ProtocolError.self) { try headers.set("a", "two words") }
        #expect(headers.wireText == "a=9 b=2 c=3")
    }

    @Test func keysAreCaseSensitive() throws {
        let headers = try Headers(parsing: ["Prio=anything", "prio=urgent"])
        #expect(headers["Prio"] == "anything")
        #expect(headers.priority == .urgent)
    }

    @Test func classificationsAreOrderedBySensitivity() {
        #expect(Classification.allCases.sorted() == [.public, .internal, .confidential, .strictlyConfidential])
        #expect(Classification.confidential < .strictlyConfidential)
        #expect(!(Classification.internal < .public))
        #expect(Classification(rawValue: "strictly-confidential") == .strictlyConfidential)
    }
}
