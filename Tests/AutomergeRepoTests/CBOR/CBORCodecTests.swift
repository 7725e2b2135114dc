import AutomergeCore
import Testing

@testable import AutomergeRepo

@Suite struct CBORCodecTests {
    /// Vectors from RFC 8949 Appendix A: decode, then re-encode to the same (shortest-form) bytes.
    @Test(arguments: [
        ("00", CBORValue.unsigned(0)),
        ("17", .unsigned(23)),
        ("1818", .unsigned(24)),
        ("1903e8", .unsigned(1000)),
        ("1a000f4240", .unsigned(1_000_000)),
        ("20", .negative(0)),
        ("3863", .negative(99)),
        ("f90000", .float16(bits: 0)),
        ("f93c00", .float16(bits: 0x3c00)),
        ("fa47c35000", .float32(100_000)),
        ("fb3ff199999999999a", .float64(1.1)),
        ("f4", .bool(false)),
        ("f5", .bool(true)),
        ("f6", .null),
        ("f7", .undefined),
        ("f0", .simple(16)),
        ("f8ff", .simple(255)),
        ("40", .bytes([])),
        ("4401020304", .bytes([1, 2, 3, 4])),
        ("60", .text("")),
        ("6449455446", .text("IETF")),
        ("62c3bc", .text("ü")),
        ("64f0908591", .text("𐅑")),
        ("80", .array([])),
        ("83010203", .array([.unsigned(1), .unsigned(2), .unsigned(3)])),
        ("a26161016162820203", .map([CBORMapEntry("a", .unsigned(1)), CBORMapEntry("b", .array([.unsigned(2), .unsigned(3)]))])),
        ("c11a514b67b0", .tagged(tag: 1, value: .unsigned(1_363_896_240))),
    ])
    func rfcVectors(hex: String, expected: CBORValue) throws {
        let bytes = try #require(hexDecode(hex))
        #expect(try CBORDecoder.decode(bytes) == expected)
        #expect(hexEncode(CBOREncoder().encode(expected)) == hex)
    }

    @Test func halfFloatValues() throws {
        #expect(try CBORDecoder.decode([0xf9, 0x3c, 0x00]).numericValue == 1.0)
        #expect(try CBORDecoder.decode([0xf9, 0x7b, 0xff]).numericValue == 65504.0)
        #expect(try CBORDecoder.decode([0xf9, 0x00, 0x01]).numericValue == 5.960464477539063e-8)
        #expect(try CBORDecoder.decode([0xf9, 0xc4, 0x00]).numericValue == -4.0)
        #expect(try CBORDecoder.decode([0xf9, 0x7c, 0x00]).numericValue == .infinity)
        #expect(try CBORDecoder.decode([0xf9, 0x7e, 0x00]).numericValue?.isNaN == true)
    }

    /// Every length encoding of the same map decodes to the same value (cbor-x writes `b9 00 nn`).
    @Test func nonPreferredHeadsAreAccepted() throws {
        let expected = CBORValue.map([CBORMapEntry("a", .unsigned(1))])
        for hex in ["a1616101", "b801616101", "b90001616101", "ba00000001616101", "bb0000000000000001616101", "bf616101ff"] {
            #expect(try CBORDecoder.decode(try #require(hexDecode(hex))) == expected, "\(hex)")
        }
        #expect(try CBORDecoder.decode(try #require(hexDecode("1b0000000000000005"))) == .unsigned(5))
        #expect(try CBORDecoder.decode(try #require(hexDecode("7801" + "41"))) == .text("A"))
    }

    @Test func indefiniteLengths() throws {
        #expect(try CBORDecoder.decode(try #require(hexDecode("5f42010243030405ff"))) == .bytes([1, 2, 3, 4, 5]))
        #expect(try CBORDecoder.decode(try #require(hexDecode("7f657374726561646d696e67ff"))) == .text("streaming"))
        #expect(
            try CBORDecoder.decode(try #require(hexDecode("9f018202039f0405ffff")))
                == .array([.unsigned(1), .array([.unsigned(2), .unsigned(3)]), .array([.unsigned(4), .unsigned(5)])])
        )
        #expect(try CBORDecoder.decode(try #require(hexDecode("5fff"))) == .bytes([]))
    }

    /// The `join` vector of docs/repo-protocol.md §1.2, built byte by byte from the cbor-x rules.
    @Test func specJoinVector() throws {
        let hex =
            "b90004" + "6474797065" + "646a6f696e" + "6873656e6465724964" + "68706565722d616263"
            + "6c706565724d65746164617461" + "b90002" + "6973746f726167654964" + "f7"
            + "6b6973457068656d6572616c" + "f5" + "7819737570706f7274656450726f746f636f6c56657273696f6e73" + "816131"
        let bytes = try #require(hexDecode(hex))
        let expected = CBORValue.map([
            CBORMapEntry("type", .text("join")),
            CBORMapEntry("senderId", .text("peer-abc")),
            CBORMapEntry("peerMetadata", .map([CBORMapEntry("storageId", .undefined), CBORMapEntry("isEphemeral", .bool(true))])),
            CBORMapEntry("supportedProtocolVersions", .array([.text("1")])),
        ])
        #expect(try CBORDecoder.decode(bytes) == expected)
        #expect(CBOREncoder(mapHeaderStyle: .cborX).encode(expected) == bytes)
        // Shortest form differs only in the two map heads (2 bytes saved each).
        let shortest = CBOREncoder().encode(expected)
        #expect(shortest.count == bytes.count - 4)
        #expect(shortest.first == 0xa4)
        #expect(try CBORDecoder.decode(shortest) == expected)
    }

    /// Integers above 32 bits go out as float64 (cbor-x's own choice), never as a `0x1b` head.
    @Test func largeIntegersBecomeFloat64() throws {
        let timestamp = CBOREncoder().encode(.unsigned(1_752_000_000_123))
        #expect(hexEncode(timestamp) == "fb42797eb56707b000")
        #expect(hexEncode(CBOREncoder().encode(.unsigned(0xffff_ffff))) == "1affffffff")
        #expect(hexEncode(CBOREncoder(largeIntegerStyle: .integer).encode(.unsigned(1_752_000_000_123))) == "1b00000197eb56707b")
        #expect(try CBORDecoder.decode(timestamp).numericValue == 1_752_000_000_123)
        #expect(hexEncode(CBOREncoder().encode(.negative(0x1_0000_0000))) == hexEncode(CBOREncoder().encode(.float64(-4_294_967_297))))
    }

    @Test func numericValues() throws {
        #expect(CBORValue.negative(0).numericValue == -1)
        #expect(CBORValue.float32(1.5).numericValue == 1.5)
        #expect(CBORValue.text("1").numericValue == nil)
    }

    /// JS object semantics: the later of two duplicate keys wins.
    @Test func duplicateKeysLastWins() throws {
        let value = try CBORDecoder.decode(try #require(hexDecode("a2616101616102")))
        #expect(value["a"] == .unsigned(2))
        #expect(value.mapEntries?.count == 2)
    }
}
