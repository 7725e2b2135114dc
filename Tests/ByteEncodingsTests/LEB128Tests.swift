import Testing

@testable import ByteEncodings

@Suite struct LEB128Tests {
    private func unsigned(_ bytes: [UInt8], maxLength: Int = LEB128.maximumLength) throws(LEB128.DecodingError) -> UInt64 {
        var index = 0
        let value = try LEB128.readUnsigned(bytes, at: &index, end: bytes.count, maxLength: maxLength)
        #expect(index == bytes.count)
        return value
    }

    private func signed(_ bytes: [UInt8]) throws(LEB128.DecodingError) -> Int64 {
        var index = 0
        let value = try LEB128.readSigned(bytes, at: &index, end: bytes.count)
        #expect(index == bytes.count)
        return value
    }

    @Test func unsignedRoundTrip() throws {
        for value: UInt64 in [0, 1, 127, 128, 300, 16_383, 16_384, UInt64(UInt32.max), UInt64.max] {
            var bytes: [UInt8] = []
            LEB128.appendUnsigned(value, to: &bytes)
            #expect(bytes.count == LEB128.unsignedSize(value))
            #expect(LEB128.encodeUnsigned(value) == bytes)
            #expect(try unsigned(bytes) == value)
        }
    }

    @Test func signedRoundTrip() throws {
        for value: Int64 in [0, 1, -1, 63, 64, -64, -65, 8191, -8192, Int64.max, Int64.min, 1_675_313_094_465] {
            var bytes: [UInt8] = []
            LEB128.appendSigned(value, to: &bytes)
            #expect(try signed(bytes) == value)
        }
    }

    @Test func knownEncodings() {
        var bytes: [UInt8] = []
        LEB128.appendSigned(1_675_313_094_465, to: &bytes)
        #expect(bytes == [0xc1, 0xbe, 0xc4, 0x83, 0xe1, 0x30])
        bytes = []
        LEB128.appendSigned(-1, to: &bytes)
        #expect(bytes == [0x7f])
        #expect(LEB128.encodeUnsigned(624_485) == [0xe5, 0x8e, 0x26])
        // Multicodec prefixes: secp256k1-pub and p256-pub.
        #expect(LEB128.encodeUnsigned(0xE7) == [0xE7, 0x01])
        #expect(LEB128.encodeUnsigned(0x1200) == [0x80, 0x24])
    }

    @Test func readsOnlyTheFirstIntegerAndLeavesTheIndexOnFailure() throws {
        let bytes: [UInt8] = [0x05, 0xE7, 0x01, 0x80]
        var index = 1
        #expect(try LEB128.readUnsigned(bytes, at: &index, end: bytes.count) == 0xE7)
        #expect(index == 3)
        #expect(throws: LEB128.DecodingError.truncated) { try LEB128.readUnsigned(bytes, at: &index, end: bytes.count) }
        #expect(index == 3)
        // `end` bounds the read even when the array goes on.
        index = 1
        #expect(throws: LEB128.DecodingError.truncated) { try LEB128.readUnsigned(bytes, at: &index, end: 2) }
        #expect(index == 1)
    }

    @Test func rejectsOverlong() throws {
        #expect(throws: LEB128.DecodingError.overlong) { try unsigned([0x80, 0x00]) }
        #expect(throws: LEB128.DecodingError.overlong) { try unsigned([0x81, 0x80, 0x00]) }
        // 1 written as 0x81 0x00 and -1 as 0xff 0x7f.
        #expect(throws: LEB128.DecodingError.overlong) { try signed([0x81, 0x00]) }
        #expect(throws: LEB128.DecodingError.overlong) { try signed([0xff, 0x7f]) }
        // 64 needs two bytes (0xc0 0x00): the 0x00 is not overlong because 0x40 is the sign bit.
        #expect(try signed([0xc0, 0x00]) == 64)
    }

    @Test func rejectsTooLarge() throws {
        #expect(throws: LEB128.DecodingError.tooLarge) { try unsigned([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]) }
        #expect(throws: LEB128.DecodingError.tooLarge) {
            try unsigned([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
        }
        #expect(throws: LEB128.DecodingError.tooLarge) { try signed([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]) }
        // A caller's cap (multiformats: 9 bytes) applies before the 64-bit limit.
        #expect(throws: LEB128.DecodingError.tooLarge) { try unsigned([UInt8](repeating: 0xFF, count: 10), maxLength: 9) }
        #expect(try unsigned([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], maxLength: 9) == UInt64.max >> 1)
    }

    @Test func rejectsTruncated() {
        #expect(throws: LEB128.DecodingError.truncated) { try unsigned([0x80]) }
        #expect(throws: LEB128.DecodingError.truncated) { try unsigned([]) }
        #expect(throws: LEB128.DecodingError.truncated) { try signed([]) }
        #expect(throws: LEB128.DecodingError.truncated) { try signed([0xff, 0xff]) }
    }

    /// The multicodec varint reads of ATProto keys: a prefix of longer input, at most 9 bytes.
    @Test func decodesAPrefix() throws {
        #expect(try LEB128.decodeUnsigned([0xE7, 0x01, 0x02], maxLength: 9) == (0xE7, 2))
        #expect(try LEB128.decodeUnsigned([0x80, 0x24], maxLength: 9) == (0x1200, 2))
        #expect(try LEB128.decodeUnsigned([0x80, 0x24][...]) == (0x1200, 2))
        #expect(throws: LEB128.DecodingError.truncated) { try LEB128.decodeUnsigned([], maxLength: 9) }
        #expect(throws: LEB128.DecodingError.truncated) { try LEB128.decodeUnsigned([0x80], maxLength: 9) }
        #expect(throws: LEB128.DecodingError.overlong) { try LEB128.decodeUnsigned([0x80, 0x00], maxLength: 9) }
        #expect(throws: LEB128.DecodingError.tooLarge) {
            try LEB128.decodeUnsigned([UInt8](repeating: 0xFF, count: 10), maxLength: 9)
        }
    }

    /// The fuzzers' lenient scan: whatever is there, never an error.
    @Test func scanReadsMalformedBytesWithoutFailing() {
        #expect(LEB128.scanUnsigned([0x01, 0xE5, 0x8e, 0x26, 0x99], from: 1) == (624_485, 4))
        #expect(LEB128.scanUnsigned([0x80, 0x80], from: 0) == (0, 2))
        #expect(LEB128.scanUnsigned([0x80, 0x00], from: 0) == (0, 2))
        #expect(LEB128.scanUnsigned([UInt8](repeating: 0xFF, count: 20), from: 0, maxLength: 9).end == 9)
        #expect(LEB128.scanUnsigned([UInt8](repeating: 0xFF, count: 20), from: 0).end == 10)
        #expect(LEB128.scanUnsigned([0x05], from: 1) == (0, 1))
    }

    @Test func randomBytesNeverTrap() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0...12, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var index = 0
            if let value = try? LEB128.readUnsigned(bytes, at: &index, end: bytes.count) {
                // A successful read is canonical: re-encoding gives back the bytes read.
                #expect(LEB128.encodeUnsigned(value) == Array(bytes[..<index]))
            }
            index = 0
            if let value = try? LEB128.readSigned(bytes, at: &index, end: bytes.count) {
                var encoded: [UInt8] = []
                LEB128.appendSigned(value, to: &encoded)
                #expect(encoded == Array(bytes[..<index]))
            }
        }
    }
}
