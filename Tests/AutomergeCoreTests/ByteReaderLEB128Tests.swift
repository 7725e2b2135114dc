import ByteEncodings
import Testing

@testable import AutomergeCore

/// LEB128 as `ByteReader` reads it: round trips, and malformed input surfacing as
/// `AutomergeError`. The encodings themselves are tested in `ByteEncodingsTests.LEB128Tests`.
@Suite struct ByteReaderLEB128Tests {
    @Test func unsignedRoundTrip() throws {
        for value: UInt64 in [0, 1, 127, 128, 300, 16_383, 16_384, UInt64(UInt32.max), UInt64.max] {
            var bytes: [UInt8] = []
            LEB128.appendUnsigned(value, to: &bytes)
            #expect(bytes.count == LEB128.unsignedSize(value))
            var reader = ByteReader(bytes)
            #expect(try reader.readULEB() == value)
            #expect(reader.isAtEnd)
        }
    }

    @Test func signedRoundTrip() throws {
        for value: Int64 in [0, 1, -1, 63, 64, -64, -65, 8191, -8192, Int64.max, Int64.min, 1_675_313_094_465] {
            var bytes: [UInt8] = []
            LEB128.appendSigned(value, to: &bytes)
            var reader = ByteReader(bytes)
            #expect(try reader.readSLEB() == value)
            #expect(reader.isAtEnd)
        }
    }

    @Test func rejectsOverlongUnsigned() {
        var reader = ByteReader([0x80, 0x00])
        #expect(throws: AutomergeError.overlongLEB128) { try reader.readULEB() }
        var reader2 = ByteReader([0x81, 0x80, 0x00])
        #expect(throws: AutomergeError.overlongLEB128) { try reader2.readULEB() }
    }

    @Test func rejectsOverlongSigned() throws {
        // 1 written as 0x81 0x00 and -1 as 0xff 0x7f.
        var reader = ByteReader([0x81, 0x00])
        #expect(throws: AutomergeError.overlongLEB128) { try reader.readSLEB() }
        var reader2 = ByteReader([0xff, 0x7f])
        #expect(throws: AutomergeError.overlongLEB128) { try reader2.readSLEB() }
        // 64 needs two bytes (0xc0 0x00): the 0x00 is not overlong because 0x40 is the sign bit.
        var reader3 = ByteReader([0xc0, 0x00])
        #expect(try reader3.readSLEB() == 64)
    }

    @Test func rejectsTooLarge() {
        var reader = ByteReader([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02])
        #expect(throws: AutomergeError.leb128TooLarge) { try reader.readULEB() }
        var reader2 = ByteReader([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
        #expect(throws: AutomergeError.leb128TooLarge) { try reader2.readULEB() }
        var reader3 = ByteReader([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40])
        #expect(throws: AutomergeError.leb128TooLarge) { try reader3.readSLEB() }
    }

    @Test func rejectsTruncated() {
        var reader = ByteReader([0x80])
        #expect(throws: AutomergeError.self) { try reader.readULEB() }
        var reader2 = ByteReader([])
        #expect(throws: AutomergeError.self) { try reader2.readSLEB() }
    }

    @Test func hostileCountsDoNotAllocate() {
        var reader = ByteReader([0xff, 0xff, 0xff, 0xff, 0x0f])
        #expect(throws: AutomergeError.self) { try reader.readHashArray("deps") }
    }

    @Test func invalidUTF8IsRejected() {
        var reader = ByteReader([0x02, 0xc3, 0x28])
        #expect(throws: AutomergeError.invalidUTF8) { try reader.readString("message") }
    }
}
