import Testing

@testable import ByteEncodings

@Suite struct HexTests {
    @Test func encodesLowerCase() {
        #expect(Hex.encode([0x00, 0xAB, 0xFF]) == "00abff")
        #expect(Hex.encode([]) == "")
        #expect(Hex.encode(Array(0...255).map(UInt8.init)).count == 512)
    }

    @Test func decodesEitherCase() {
        #expect(Hex.decode("00AbfF") == [0x00, 0xAB, 0xFF])
        #expect(Hex.decode("") == [])
        #expect(Hex.decode("0123456789abcdefABCDEF") == [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xab, 0xcd, 0xef])
    }

    @Test func rejectsMalformed() {
        for bad in ["abc", "zz", "0g", "g0", " 0", "0 ", "0x00", "é0", "a"] {
            #expect(Hex.decode(bad) == nil, "\(bad)")
        }
    }

    @Test func roundTrips() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Hex.decode(Hex.encode(bytes)) == bytes)
            #expect(Hex.decode(Hex.encode(bytes).uppercased()) == bytes)
        }
    }
}
