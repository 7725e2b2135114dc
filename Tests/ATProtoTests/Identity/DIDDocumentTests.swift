import ByteEncodings
import Foundation
import Testing

@testable import ATProto

@Suite("DID documents")
struct DIDDocumentTests {
    let did = try! DID("did:plc:byrelw3cta3ceqlbeymyqv5q")  // constant literal

    private func parse(_ json: String) throws -> DIDDocument {
        try DIDDocument(json: Array(json.utf8), expectedDID: did)
    }

    @Test(.enabled(if: Fixtures.available, "needs ../shared/fixtures"))
    func fixtureDocuments() throws {
        let fixtures = try ServiceAuthFixtures()
        for name in ["owner-k256", "owner-p256"] {
            let account = try fixtures.account(name)
            let document = try fixtures.document(account.did_document_file, did: account.did)
            #expect(try document.atprotoSigningKey().didKey == account.did_key)
            #expect(document.pdsEndpoint == "https://pds.example.com")
            #expect(document.claimedHandle?.string == "\(name).example.com")
            // The fixture private key derives the published key.
            if name == "owner-k256" {
                let scalarBytes = try #require(Hex.decode(account.private_key_hex))
                let scalar = try #require(UInt256(bigEndian: scalarBytes))
                let point = try #require(Secp256k1.multiplyGenerator(scalar).affine)
                #expect(PublicKey.secp256k1(Secp256k1PublicKey(validatedX: point.x, y: point.y)).didKey == account.did_key)
            }
        }
        // A document for one DID is refused for another.
        let account = try fixtures.account("owner-k256")
        #expect(throws: DIDDocument.ParseError.self) { try fixtures.document(account.did_document_file, did: "did:plc:usd6gxk2z4worrruosliqhrr") }
    }

    @Test func relativeAndAbsoluteIDs() throws {
        let key = "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc"
        for id in ["#atproto", "\(did.string)#atproto"] {
            let document = try parse(
                ##"{"id":"\##(did.string)","verificationMethod":[{"id":"\##(id)","type":"Multikey","controller":"\##(did.string)","publicKeyMultibase":"\##(key)"}],"service":[{"id":"\##(did.string)#atproto_pds","type":"AtprotoPersonalDataServer","serviceEndpoint":"https://pds.example"}]}"##
            )
            #expect(try document.atprotoSigningKey().multikey == key)
            #expect(document.pdsEndpoint == "https://pds.example")
        }
    }

    /// A one-method document; values are inserted as JSON strings.
    private func document(methodID: String, type: String, controller: String? = nil, key: String) throws -> DIDDocument {
        var method = ["\"id\":\"\(methodID)\"", "\"type\":\"\(type)\"", "\"publicKeyMultibase\":\"\(key)\""]
        if let controller { method.append("\"controller\":\"\(controller)\"") }
        return try parse("{\"id\":\"\(did.string)\",\"verificationMethod\":[{\(method.joined(separator: ","))}]}")
    }

    @Test func signingKeyProblems() throws {
        let key = "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc"
        let none = try parse("{\"id\":\"\(did.string)\"}")
        #expect(throws: DIDDocument.SigningKeyError.missing) { try none.atprotoSigningKey() }
        #expect(none.pdsEndpoint == nil)
        #expect(none.claimedHandle == nil)
        let otherFragment = try document(methodID: "#other", type: "Multikey", key: key)
        #expect(throws: DIDDocument.SigningKeyError.missing) { try otherFragment.atprotoSigningKey() }
        let foreign = try document(methodID: "#atproto", type: "Multikey", controller: "did:plc:other", key: key)
        #expect(throws: DIDDocument.SigningKeyError.wrongController("did:plc:other")) { try foreign.atprotoSigningKey() }
        let badType = try document(methodID: "#atproto", type: "JsonWebKey2020", key: key)
        #expect(throws: DIDDocument.SigningKeyError.unsupportedType("JsonWebKey2020")) { try badType.atprotoSigningKey() }
        let badKey = try document(methodID: "#atproto", type: "Multikey", key: "zzz")
        #expect(throws: DIDDocument.SigningKeyError.self) { try badKey.atprotoSigningKey() }
        let ftpPDS = try parse(
            "{\"id\":\"\(did.string)\",\"service\":[{\"id\":\"#atproto_pds\",\"type\":\"AtprotoPersonalDataServer\",\"serviceEndpoint\":\"ftp://x\"}]}"
        )
        #expect(ftpPDS.pdsEndpoint == nil)
    }

    @Test func malformedDocuments() {
        let cases = [
            "", "null", "[]", "{", ##"{"id":5}"##, ##"{"id":"not-a-did"}"##, ##"{"id":"did:plc:other"}"##,
            ##"{"id":"\##(did.string)","verificationMethod":{}}"##, ##"{"id":"\##(did.string)","alsoKnownAs":"at://x"}"##,
            ##"{"id":"\##(did.string)","service":7}"##,
        ]
        for json in cases {
            #expect(throws: DIDDocument.ParseError.self, "\(json)") { try parse(json) }
        }
        #expect(throws: DIDDocument.ParseError.tooLarge) {
            try DIDDocument(json: [UInt8](repeating: 0x20, count: DIDDocument.maximumSize + 1), expectedDID: did)
        }
    }
}
