import Testing

@testable import ATProto

@Suite("Encodings")
struct EncodingTests {
    @Test func base58KnownValues() {
        #expect(Base58.encode(Array("hello world".utf8)) == "StV1DL6CwTryKyV")
        #expect(Base58.decode("StV1DL6CwTryKyV") == Array("hello world".utf8))
        #expect(Base58.encode([0, 0, 1]) == "112")
        #expect(Base58.decode("112") == [0, 0, 1])
        #expect(Base58.decode("") == [])
        #expect(Base58.decode("111") == [0, 0, 0])
    }

    @Test func base58RejectsMalformed() {
        for bad in ["0", "O", "I", "l", "abc+", " abc", "abc\n", "é"] {
            #expect(Base58.decode(bad) == nil, "\(bad)")
        }
        #expect(Base58.decode(String(repeating: "z", count: Base58.maximumDecodedInputLength + 1)) == nil)
    }

    @Test func base58RoundTrips() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<48 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let withZeros = [0, 0] + bytes
            #expect(Base58.decode(Base58.encode(withZeros)) == withZeros)
        }
    }

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

    @Test func varints() {
        #expect(Varint.encode(0xE7) == [0xE7, 0x01])
        #expect(Varint.encode(0x1200) == [0x80, 0x24])
        #expect(Varint.decode([0xE7, 0x01, 0x02])?.value == 0xE7)
        #expect(Varint.decode([0xE7, 0x01, 0x02])?.length == 2)
        #expect(Varint.decode([0x80, 0x24])?.value == 0x1200)
        #expect(Varint.decode([]) == nil)
        #expect(Varint.decode([0x80]) == nil)
        #expect(Varint.decode([0x80, 0x00]) == nil)  // not minimal
        #expect(Varint.decode([UInt8](repeating: 0xFF, count: 10)) == nil)
    }

    @Test func multibase() throws {
        #expect(try Multibase.decode("zStV1DL6CwTryKyV") == Array("hello world".utf8))
        #expect(throws: Multibase.DecodingError.empty) { try Multibase.decode("") }
        #expect(throws: Multibase.DecodingError.unsupportedPrefix("m")) { try Multibase.decode("mAAAA") }
        #expect(throws: Multibase.DecodingError.invalidBase58) { try Multibase.decode("z0OIl") }
    }

    @Test func hex() {
        #expect(Hex.encode([0x00, 0xAB, 0xFF]) == "00abff")
        #expect(Hex.decode("00AbfF") == [0x00, 0xAB, 0xFF])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}
