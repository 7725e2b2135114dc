import Testing

@testable import ByteEncodings

@Suite struct Base58Tests {
    @Test func knownVectors() throws {
        #expect(Base58.encode(Array("hello world".utf8)) == "StV1DL6CwTryKyV")
        #expect(Base58.encode([0, 0, 1]) == "112")
        #expect(Base58.encode([]) == "")
        #expect(try Base58.decode("StV1DL6CwTryKyV") == Array("hello world".utf8))
        #expect(try Base58.decode("112") == [0, 0, 1])
        #expect(try Base58.decode("") == [])
        #expect(try Base58.decode("111") == [0, 0, 0])
        #expect(try Base58.decode("StV1DL6CwTryKyV".dropFirst(0)) == Array("hello world".utf8))
    }

    @Test func roundTripsRandomBytes() throws {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<48 {
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if length > 3 { bytes[0] = 0 }
            #expect(try Base58.decode(Base58.encode(bytes)) == bytes)
            let withZeros = [0, 0] + bytes
            #expect(try Base58.decode(Base58.encode(withZeros)) == withZeros)
        }
    }

    @Test func rejectsCharactersOutsideTheAlphabet() {
        let bad = ["0", "O", "I", "l", "abc+", " abc", "abc\n", "é", "0abc", "abcO", "abIc", "ablc", "ab c", "ab-c", "abé"]
        for string in bad {
            #expect(throws: Base58.DecodingError.self, "\(string)") { try Base58.decode(string) }
        }
        #expect(throws: Base58.DecodingError.invalidCharacter(position: 3)) { try Base58.decode("abc0") }
        // Offsets count UTF-8 bytes, after any leading `1`s.
        #expect(throws: Base58.DecodingError.invalidCharacter(position: 3)) { try Base58.decode("11aé") }
    }

    @Test func rejectsOverlongInputBeforeDecoding() {
        let limit = Base58.defaultMaxLength
        #expect(throws: Base58.DecodingError.tooLong(length: 513, limit: 512)) {
            try Base58.decode(String(repeating: "z", count: limit + 1))
        }
        #expect(throws: Base58.DecodingError.tooLong(length: 5, limit: 4)) { try Base58.decode("zzzzz", maxLength: 4) }
        #expect(throws: Never.self) { try Base58.decode(String(repeating: "z", count: limit)) }
    }
}
