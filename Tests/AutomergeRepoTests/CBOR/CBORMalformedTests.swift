import AutomergeCore
import ByteEncodings
import TestSupport
import Testing

@testable import AutomergeRepo

@Suite struct CBORMalformedTests {
    private func decodeError(_ hex: String, decoder: CBORDecoder = CBORDecoder()) throws -> CBORError? {
        let bytes = try #require(Hex.decode(hex))
        do {
            _ = try decoder.decode(bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func emptyInput() throws {
        #expect(try decodeError("") == .unexpectedEnd(offset: 0, needed: 1))
    }

    @Test func truncations() throws {
        #expect(try decodeError("19") == .unexpectedEnd(offset: 1, needed: 2))
        #expect(try decodeError("1a0001") == .unexpectedEnd(offset: 1, needed: 2))
        #expect(try decodeError("fb3ff1") == .unexpectedEnd(offset: 1, needed: 6))
        #expect(try decodeError("83010203") == nil)
        #expect(try decodeError("830102") == .lengthExceedsInput(offset: 0, declared: 3, available: 2))
        #expect(try decodeError("82018102") == nil)
        #expect(try decodeError("820181") == .lengthExceedsInput(offset: 2, declared: 1, available: 0))
        #expect(try decodeError("a16161") == .unexpectedEnd(offset: 3, needed: 1))
        #expect(try decodeError("9f0102") == .unexpectedEnd(offset: 3, needed: 1))
        #expect(try decodeError("5f4101") == .unexpectedEnd(offset: 3, needed: 1))
    }

    @Test func declaredLengthsBeyondInput() throws {
        #expect(try decodeError("4501") == .lengthExceedsInput(offset: 0, declared: 5, available: 1))
        #expect(try decodeError("7a7fffffff41") == .lengthExceedsInput(offset: 0, declared: 0x7fff_ffff, available: 1))
        // Hostile counts: 2^32 array elements (the upstream server test), 2^64−1 map entries, huge byte string.
        #expect(try decodeError("9b0000000100000000") == .lengthExceedsInput(offset: 0, declared: 0x1_0000_0000, available: 0))
        #expect(try decodeError("bbffffffffffffffff0000") == .lengthExceedsInput(offset: 0, declared: .max, available: 2))
        #expect(try decodeError("5bffffffffffffffff") == .lengthExceedsInput(offset: 0, declared: .max, available: 0))
        // A map needs two bytes per entry at least.
        #expect(try decodeError("a30102") == .lengthExceedsInput(offset: 0, declared: 3, available: 2))
    }

    @Test func reservedAndMisplacedBytes() throws {
        #expect(try decodeError("1c") == .reservedAdditionalInfo(offset: 0, initialByte: 0x1c))
        #expect(try decodeError("5e") == .reservedAdditionalInfo(offset: 0, initialByte: 0x5e))
        #expect(try decodeError("fd") == .reservedAdditionalInfo(offset: 0, initialByte: 0xfd))
        #expect(try decodeError("1f") == .indefiniteLengthNotAllowed(offset: 0, initialByte: 0x1f))
        #expect(try decodeError("3f") == .indefiniteLengthNotAllowed(offset: 0, initialByte: 0x3f))
        #expect(try decodeError("df") == .indefiniteLengthNotAllowed(offset: 0, initialByte: 0xdf))
        #expect(try decodeError("ff") == .unexpectedBreak(offset: 0))
        #expect(try decodeError("8201ff") == .unexpectedBreak(offset: 2))
        #expect(try decodeError("bf61616161ff00") == .trailingBytes(offset: 6, count: 1))
        #expect(try decodeError("bf6161ff") == .unexpectedBreak(offset: 3))
        #expect(try decodeError("f801") == .invalidSimpleValue(offset: 0, value: 1))
        #expect(try decodeError("5f6161ff") == .invalidStringChunk(offset: 1, initialByte: 0x61))
        #expect(try decodeError("7f5f4161ffff") == .invalidStringChunk(offset: 1, initialByte: 0x5f))
    }

    @Test func invalidUTF8() throws {
        #expect(try decodeError("61ff") == .invalidUTF8(offset: 0))
        #expect(try decodeError("62c328") == .invalidUTF8(offset: 0))
        #expect(try decodeError("62c0af") == .invalidUTF8(offset: 0))  // overlong "/"
        #expect(try decodeError("63eda080") == .invalidUTF8(offset: 0))  // UTF-16 surrogate
        #expect(try decodeError("64f4908080") == .invalidUTF8(offset: 0))  // above U+10FFFF
        // A code point split across two chunks of an indefinite text string is not allowed.
        #expect(try decodeError("7f61c361bcff") == .invalidUTF8(offset: 1))
        #expect(try decodeError("a162c3286161") == .invalidUTF8(offset: 1))
    }

    @Test func trailingBytes() throws {
        #expect(try decodeError("0000") == .trailingBytes(offset: 1, count: 1))
        #expect(try decodeError("b90000f7f7") == .trailingBytes(offset: 3, count: 2))
    }

    @Test func depthBombs() throws {
        // 100 000 nested arrays, maps and tags: rejected at the limit without deep recursion.
        let arrays = [UInt8](repeating: 0x81, count: 100_000) + [0x00]
        #expect(throws: CBORError.nestingTooDeep(offset: 64, limit: 64)) { try CBORDecoder.decode(arrays) }
        let indefinite = [UInt8](repeating: 0x9f, count: 100_000)
        #expect(throws: CBORError.nestingTooDeep(offset: 64, limit: 64)) { try CBORDecoder.decode(indefinite) }
        let maps = [UInt8]((0..<50_000).flatMap { _ in [UInt8(0xa1), 0x00] }) + [0x00]
        #expect(throws: CBORError.nestingTooDeep(offset: 128, limit: 64)) { try CBORDecoder.decode(maps) }
        let tags = [UInt8](repeating: 0xc1, count: 100_000) + [0x00]
        #expect(throws: CBORError.nestingTooDeep(offset: 64, limit: 64)) { try CBORDecoder.decode(tags) }
        // Exactly at the limit is fine.
        let ok = [UInt8](repeating: 0x81, count: 64) + [0x00]
        #expect(throws: Never.self) { try CBORDecoder.decode(ok) }
        let custom = CBORDecoder(maxDepth: 2)
        #expect(throws: CBORError.nestingTooDeep(offset: 2, limit: 2)) { try custom.decode([0x81, 0x81, 0x81, 0x00]) }
    }

    @Test func inputSizeLimit() throws {
        let decoder = CBORDecoder(maxInputSize: 4)
        #expect(throws: CBORError.inputTooLarge(size: 5, limit: 4)) { try decoder.decode([0x44, 1, 2, 3, 4]) }
        #expect(try decoder.decode([0x43, 1, 2, 3]) == .bytes([1, 2, 3]))
    }

    @Test func errorMessagesAreActionable() {
        #expect(CBORError.trailingBytes(offset: 3, count: 2).description.contains("starting at byte 3"))
        #expect(CBORError.lengthExceedsInput(offset: 0, declared: 9, available: 1).description.contains("declares length 9"))
        #expect(CBORError.reservedAdditionalInfo(offset: 0, initialByte: 0x1c).description.contains("0x1c"))
    }

    /// Random corruptions of valid items: every outcome is a value or a `CBORError`; a value must
    /// survive an encode/decode round trip.
    @Test func mutationsOfBuiltInVectorsNeverCrash() throws {
        let seeds = [
            "b90004647479706564706565726873656e646572496468636c69656e742d41", "9f018202039f0405ffff", "7f657374726561646d696e67ff",
            "a26161016162820203", "fb3ff199999999999a", "c11a514b67b0",
        ]
        var rng = SplitMix64(seed: 0x6d69_7374)
        for hex in seeds {
            let bytes = try #require(Hex.decode(hex))
            for _ in 0..<2_000 {
                try checkRoundTripOrError(mutate(bytes, using: &rng))
            }
        }
    }
}

/// Decoding either fails with a `CBORError` or yields a value that re-encodes and decodes to itself.
func checkRoundTripOrError(_ input: [UInt8]) throws {
    let value: CBORValue
    do {
        value = try CBORDecoder.decode(input)
    } catch {
        return
    }
    let reencoded = CBOREncoder(largeIntegerStyle: .integer).encode(value)
    let again = try CBORDecoder.decode(reencoded)
    #expect(again.isSameItem(as: value), "round trip of \(Hex.encode(input))")
}

extension CBORValue {
    /// Equality that treats NaN payloads as equal, so that a mutated float does not look like a round-trip failure.
    func isSameItem(as other: CBORValue) -> Bool {
        switch (self, other) {
        case (.float32(let a), .float32(let b)): return a.bitPattern == b.bitPattern
        case (.float64(let a), .float64(let b)): return a.bitPattern == b.bitPattern
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.isSameItem(as: $1) }
        case (.map(let a), .map(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key.isSameItem(as: $1.key) && $0.value.isSameItem(as: $1.value) }
        case (.tagged(let t1, let v1), .tagged(let t2, let v2)): return t1 == t2 && v1.isSameItem(as: v2)
        default: return self == other
        }
    }
}
