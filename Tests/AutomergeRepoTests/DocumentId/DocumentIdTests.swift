import AutomergeCore
import Testing

@testable import AutomergeRepo

@Suite struct DocumentIdTests {
    @Test func base58KnownVectors() throws {
        #expect(Base58.encode(Array("hello world".utf8)) == "StV1DL6CwTryKyV")
        #expect(Base58.encode([0, 0, 1]) == "112")
        #expect(Base58.encode([]) == "")
        #expect(try Base58.decode("StV1DL6CwTryKyV") == Array("hello world".utf8))
        #expect(try Base58.decode("112") == [0, 0, 1])
        #expect(try Base58.decode("") == [])
    }

    @Test func base58RoundTripsRandomBytes() throws {
        var rng = SplitMix64(seed: 58)
        for length in 0..<40 {
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if length > 3 { bytes[0] = 0 }
            #expect(try Base58.decode(Base58.encode(bytes)) == bytes)
        }
    }

    @Test func base58RejectsCharactersOutsideTheAlphabet() {
        for bad in ["0abc", "abcO", "abIc", "ablc", "ab c", "ab-c", "abé"] {
            #expect(throws: DocumentIdError.self, "\(bad)") { try Base58.decode(bad) }
        }
        #expect(throws: DocumentIdError.invalidCharacter(position: 3)) { try Base58.decode("abc0") }
        #expect(throws: DocumentIdError.tooLong(length: 513, limit: 512)) { try Base58.decode(String(repeating: "z", count: 513)) }
    }

    /// Vectors from docs/repo-protocol.md §3, cross-checked independently.
    @Test func specVectors() throws {
        let id = try DocumentId("4NMNnkMhL8jXrdJ9jamS58PAVdXu")
        #expect(id.uuidString == "f1c29c84-74c8-4ade-b800-be47627d33bf")
        #expect(try DocumentId(uuidString: "5b0e0b6a-4f0e-4d2c-9a77-1f2d3c4b5a69").string == "2GaPo4hkBduU9JmThzTbuf4Pw1dF")
        #expect(try DocumentId(bytes: [UInt8](repeating: 0, count: 16)).string == "11111111111111114Ki9Gx")
        #expect(try Base58Check.decode("9HUp4wuzRMx9MRvN4x") == Array("custom-id".utf8))
        let hash = try #require(ChangeHash(hex: String(repeating: "0123456789abcdef", count: 4)))
        #expect(Base58Check.encode(hash.bytes) == "W4exHFQ41XUp8noMjTtReLTLt5X7fBcbNUzERLBHVgmGeWmT")
    }

    @Test func invalidIds() {
        #expect(throws: DocumentIdError.empty) { try DocumentId("") }
        // One character changed: the checksum catches it.
        #expect(throws: DocumentIdError.badChecksum) { try DocumentId("4NMNnkMhL8jXrdJ9jamS58PAVdXv") }
        #expect(throws: DocumentIdError.invalidCharacter(position: 27)) { try DocumentId("4NMNnkMhL8jXrdJ9jamS58PAVdX0") }
        #expect(throws: DocumentIdError.self) { try DocumentId("4NMNnkMhL8jXrdJ9jamS58PAVd") }
        #expect(throws: DocumentIdError.tooLong(length: 29, limit: 28)) { try DocumentId("4NMNnkMhL8jXrdJ9jamS58PAVdXuu") }
        // A valid bs58check string whose payload is not 16 bytes (JS would accept it; we do not).
        #expect(throws: DocumentIdError.wrongPayloadLength(9)) { try DocumentId("9HUp4wuzRMx9MRvN4x") }
        #expect(throws: DocumentIdError.tooShortForChecksum(byteCount: 1)) { try DocumentId("z") }
        #expect(throws: DocumentIdError.self) { try DocumentId("../../etc/passwd") }
        #expect(throws: DocumentIdError.wrongPayloadLength(15)) { try DocumentId(bytes: [UInt8](repeating: 1, count: 15)) }
        #expect(throws: DocumentIdError.invalidUUID) { try DocumentId(uuidString: "5b0e0b6a4f0e4d2c9a771f2d3c4b5a69") }
        #expect(throws: DocumentIdError.invalidUUID) { try DocumentId(uuidString: "5b0e0b6a-4f0e-4d2c-9a77-1f2d3c4b5a6z") }
    }

    @Test func randomIdsAreUUIDv4AndParse() throws {
        var seen = Set<DocumentId>()
        for _ in 0..<200 {
            let id = DocumentId.random()
            #expect(id.bytes[6] >> 4 == 4)
            #expect(id.bytes[8] >> 6 == 2)
            #expect(try DocumentId(id.string) == id)
            // 20 bytes (id + checksum) need at most 28 base58 digits; a small leading byte gives
            // fewer, and each leading zero byte is one "1".
            #expect(id.string.count <= 28)
            #expect(id.string.prefix(while: { $0 == "1" }).count == id.bytes.prefix(while: { $0 == 0 }).count)
            seen.insert(id)
        }
        #expect(seen.count == 200)
    }

    @Test func urls() throws {
        let url = try AutomergeURL("automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu")
        #expect(url.documentId.uuidString == "f1c29c84-74c8-4ade-b800-be47627d33bf")
        #expect(url.heads == nil)
        #expect(url.description == "automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu")
        let withHeads = try AutomergeURL("automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu#W4exHFQ41XUp8noMjTtReLTLt5X7fBcbNUzERLBHVgmGeWmT")
        #expect(withHeads.heads?.map(\.hex) == [String(repeating: "0123456789abcdef", count: 4)])
        #expect(withHeads.description == "automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu#W4exHFQ41XUp8noMjTtReLTLt5X7fBcbNUzERLBHVgmGeWmT")
        #expect(try AutomergeURL("automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu#").heads == [])
        #expect(throws: DocumentIdError.notAnAutomergeURL) { try AutomergeURL("4NMNnkMhL8jXrdJ9jamS58PAVdXu") }
        #expect(throws: DocumentIdError.multipleFragments) { try AutomergeURL("automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu##") }
        #expect(throws: DocumentIdError.invalidHead("abc")) { try AutomergeURL("automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXu#abc") }
        #expect(throws: DocumentIdError.badChecksum) { try AutomergeURL("automerge:4NMNnkMhL8jXrdJ9jamS58PAVdXv") }
    }

    /// Every document id and bs58check head in the captures and NodeFS fixture is valid.
    @Test(.enabled(if: Fixtures.wireAvailable, Fixtures.skipMessage))
    func fixtureIdsAreValid() throws {
        var ids = Set<String>()
        var heads = Set<String>()
        for frame in try Fixtures.wireFrames() {
            if case .string(let id)? = frame.decoded["documentId"] { ids.insert(id) }
            if case .object(let entries)? = frame.decoded["newHeads"] {
                for (_, entry) in entries {
                    if case .array(let list)? = entry["heads"] {
                        for case .string(let head) in list { heads.insert(head) }
                    }
                }
            }
        }
        #expect(ids.count >= 5)
        #expect(!heads.isEmpty)
        for id in ids {
            let parsed = try DocumentId(id)
            #expect(parsed.string == id)
            #expect(try AutomergeURL(parsed.url).documentId == parsed)
        }
        for head in heads {
            #expect(try Base58Check.decode(head).count == 32, "\(head)")
        }
    }
}
