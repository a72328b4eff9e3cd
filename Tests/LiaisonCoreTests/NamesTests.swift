import LiaisonCore
import Testing

@Suite struct NamesTests {
    @Test(arguments: [
        ("ohchr", true),
        ("un-women", true),
        ("field.mm_sittwe", true),
        ("0office", true),
        (String(repeating: "a", count: 64), true),
        (String(repeating: "a", count: 65), false),
        ("", false),
        ("OHCHR", false),
        ("-ohchr", false),
        (".ohchr", false),
        ("oh chr", false),
        ("ohchr*", false),
    ])
    func accounts(name: String, valid: Bool) {
        #expect(Names.isValidAccount(name) == valid)
        #expect(Names.isValidAccount(name[...]) == valid)
    }

    @Test(arguments: [
        ("s1", true),
        ("Field_Sub-2", true),
        ("-", true),
        (String(repeating: "x", count: 64), true),
        (String(repeating: "x", count: 65), false),
        ("", false),
        ("a.b", false),
        ("a b", false),
        ("\u{E9}", false),
    ])
    func sidsAndDurables(name: String, valid: Bool) {
        #expect(Names.isValidSid(name) == valid)
        #expect(Names.isValidDurable(name[...]) == valid)
    }
}
