import Testing

@testable import ATProto

@Suite("Identifier syntax")
struct SyntaxTests {
    // The interop files live outside the repository; skipped when ../shared/fixtures is absent.
    @Test(.enabled(if: Fixtures.available, "needs ../shared/fixtures"))
    func didInteropLists() throws {
        let valid = try Fixtures.syntaxLines("did_syntax_valid.txt")
        let invalid = try Fixtures.syntaxLines("did_syntax_invalid.txt")
        #expect(valid.count == 24)
        #expect(invalid.count == 18)
        for value in valid {
            #expect(throws: Never.self, "\(value)") { try DID(value) }
        }
        for value in invalid {
            #expect(throws: SyntaxError.self, "\(value.prefix(60))") { try DID(value) }
        }
    }

    @Test(.enabled(if: Fixtures.available, "needs ../shared/fixtures"))
    func handleInteropLists() throws {
        let valid = try Fixtures.syntaxLines("handle_syntax_valid.txt")
        let invalid = try Fixtures.syntaxLines("handle_syntax_invalid.txt")
        #expect(valid.count == 71)
        #expect(invalid.count == 48)
        for value in valid {
            #expect(throws: Never.self, "\(value)") { try Handle(value) }
        }
        for value in invalid {
            #expect(throws: SyntaxError.self, "\(value)") { try Handle(value) }
        }
    }

    @Test(.enabled(if: Fixtures.available, "needs ../shared/fixtures"))
    func nsidInteropLists() throws {
        let valid = try Fixtures.syntaxLines("nsid_syntax_valid.txt")
        let invalid = try Fixtures.syntaxLines("nsid_syntax_invalid.txt")
        #expect(valid.count == 25)
        #expect(invalid.count == 27)
        for value in valid {
            let nsid = try NSID(value)
            let authority = nsid.authoritySegments.joined(separator: ".")
            // Every valid NSID authority within the 253-character domain limit is a valid namespace prefix.
            if authority.utf8.count <= 253 {
                #expect(nsid.isUnder(try NamespacePrefix(authority)))
            } else {
                #expect(throws: SyntaxError.self) { try NamespacePrefix(authority) }
            }
        }
        for value in invalid {
            #expect(throws: SyntaxError.self, "\(value)") { try NSID(value) }
        }
    }

    @Test(.enabled(if: Fixtures.available, "needs ../shared/fixtures"))
    func atIdentifierInteropLists() throws {
        func parses(_ value: String) -> Bool {
            if value.hasPrefix("did:") { return (try? DID(value)) != nil }
            return (try? Handle(value)) != nil
        }
        for value in try Fixtures.syntaxLines("atidentifier_syntax_valid.txt") {
            #expect(parses(value), "\(value)")
        }
        for value in try Fixtures.syntaxLines("atidentifier_syntax_invalid.txt") {
            #expect(!parses(value), "\(value.prefix(60))")
        }
    }

    @Test func didAccessorsAndATProtoMethods() throws {
        let plc = try DID("did:plc:7iza6de2dwap2sbkpav7c6c6")
        #expect(plc.method == "plc")
        #expect(plc.methodSpecificID == "7iza6de2dwap2sbkpav7c6c6")
        try plc.validateATProtoMethod()

        #expect(throws: SyntaxError.self) { try DID("did:plc:7iza6de2dwap2sbkpav7c6c").validateATProtoMethod() }
        #expect(throws: SyntaxError.self) { try DID("did:plc:7IZA6DE2DWAP2SBKPAV7C6C6").validateATProtoMethod() }
        #expect(throws: SyntaxError.self) { try DID("did:plc:7iza6de2dwap2sbkpav7c6c1").validateATProtoMethod() }
        #expect(throws: SyntaxError.self) { try DID("did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N").validateATProtoMethod() }

        let web = try DID("did:web:Sync.Example.com")
        let webHost = try web.webHost()
        #expect(webHost.host == "sync.example.com")
        #expect(webHost.port == nil)
        let local = try DID("did:web:localhost%3A8080")
        let localHost = try local.webHost()
        #expect(localHost.host == "localhost")
        #expect(localHost.port == 8080)
        #expect(throws: SyntaxError.self) { try DID("did:web:example.com%3A8080").webHost() }
        #expect(throws: SyntaxError.self) { try DID("did:web:example.com:path").webHost() }
        #expect(throws: SyntaxError.self) { try DID("did:web:localhost%3A99999").webHost() }
        #expect(throws: SyntaxError.self) { try DID("did:web:-bad.com").webHost() }
        #expect(throws: SyntaxError.self) { try DID("did:web:printer.local").webHost() }
        #expect(throws: SyntaxError.self) { try DID("did:web:1.0.0.127.in-addr.arpa").webHost() }
        #expect(try Handle("alice.test").isResolvable)
        #expect(!(try Handle("alice.onion").isResolvable))
    }

    @Test func handleIsLowerCased() throws {
        #expect(try Handle("Alice.Example.COM").string == "alice.example.com")
    }

    @Test func nsidNormalisesAuthorityOnly() throws {
        let nsid = try NSID("XYZ.GroundMist.sync.authenticateNow")
        #expect(nsid.string == "xyz.groundmist.sync.authenticateNow")
        #expect(nsid.name == "authenticateNow")
        #expect(nsid.authorityDomain == "sync.groundmist.xyz")
    }

    @Test func namespacePrefixRules() throws {
        let prefix = try NamespacePrefix("XYZ.groundmist.Library")
        #expect(prefix.string == "xyz.groundmist.library")
        #expect(prefix.segments == ["xyz", "groundmist", "library"])
        #expect(try NSID("xyz.groundmist.library.content.article").isUnder(prefix))
        #expect(try NSID("xyz.groundmist.library.article").isUnder(prefix))
        #expect(!(try NSID("xyz.groundmist.libraryx.article").isUnder(prefix)))
        #expect(!(try NSID("xyz.groundmist.article").isUnder(prefix)))
        #expect(try NSID("xyz.groundmist.sync.x").isUnder(NamespacePrefix("xyz.groundmist")))

        for bad in ["xyz", "", ".xyz.a", "xyz..a", "1xyz.a", "xyz.a-", "xyz.-a", "xyz.a_b", "xyz/../etc.a", "xyz.a.", "x y.z", "xyz.é"] {
            #expect(throws: SyntaxError.self, "\(bad)") { try NamespacePrefix(bad) }
        }
        #expect(throws: SyntaxError.self) { try NamespacePrefix("a." + String(repeating: "b", count: 64)) }
        #expect(throws: SyntaxError.self) {
            try NamespacePrefix(Array(repeating: String(repeating: "a", count: 60), count: 5).joined(separator: "."))
        }
        #expect(throws: Never.self) { try NamespacePrefix("cn.8.lex") }
    }
}
