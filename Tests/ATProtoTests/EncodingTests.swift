import Testing

@testable import ATProto

/// Base58, hex and varints are tested in ByteEncodingsTests.
@Suite("Encodings")
struct EncodingTests {
    @Test func base64URLStrict() {
        #expect(Base64URL.encode(Array("any carnal pleas".utf8)) == "YW55IGNhcm5hbCBwbGVhcw")
        #expect(Base64URL.decode("YW55IGNhcm5hbCBwbGVhcw") == Array("any carnal pleas".utf8))
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
        // Padding, standard alphabet, whitespace, impossible lengths and non-zero trailing bits.
        for bad in ["YW55IGNhcm5hbCBwbGVhcw==", "+/8", "YW55 IGNh", "A", "AAAAA", "-_9", "YR", "é"] {
            #expect(Base64URL.decode(bad) == nil, "\(bad)")
        }
        #expect(Base64URL.decode("") == [])
    }

    @Test func multibase() throws {
        #expect(try Multibase.decode("zStV1DL6CwTryKyV") == Array("hello world".utf8))
        #expect(throws: Multibase.DecodingError.empty) { try Multibase.decode("") }
        #expect(throws: Multibase.DecodingError.unsupportedPrefix("m")) { try Multibase.decode("mAAAA") }
        #expect(throws: Multibase.DecodingError.invalidBase58) { try Multibase.decode("z0OIl") }
    }
}
