import AutomergeCore
import ByteEncodings

/// Turns corpus entries into new inputs: bit flips, boundary bytes, truncation, insertion,
/// deletion, grown length prefixes (LEB128 and CBOR heads), duplicated slices, splices of two
/// entries, and now and then plain random bytes.
enum Mutator {
    /// Inputs never grow past this, so one input cannot cost the fuzzer itself much memory.
    static let maximumInputSize = 1 << 20

    static let interestingBytes: [UInt8] = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x1b, 0x1a, 0x5b, 0x9f, 0xbf, 0xf6, 0xf7, 0x22, 0x2e, 0x3d, 0x0a]

    static func input(from corpus: [[UInt8]], _ rng: inout FuzzRandom) -> [UInt8] {
        let roll = Int.random(in: 0..<100, using: &rng)
        if corpus.isEmpty || roll < 4 {
            return (0..<Int.random(in: 0...256, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
        var bytes = corpus[Int.random(in: 0..<corpus.count, using: &rng)]
        if roll < 10, corpus.count > 1 {
            let other = corpus[Int.random(in: 0..<corpus.count, using: &rng)]
            let cut = Int.random(in: 0...bytes.count, using: &rng)
            let otherCut = Int.random(in: 0...other.count, using: &rng)
            bytes = Array(bytes[..<cut]) + Array(other[otherCut...])
        }
        if roll < 12 { return bytes }  // an unmutated entry (or splice) now and then
        for _ in 0..<Int.random(in: 1...4, using: &rng) { mutate(&bytes, &rng) }
        if bytes.count > maximumInputSize { bytes.removeLast(bytes.count - maximumInputSize) }
        return bytes
    }

    static func mutate(_ bytes: inout [UInt8], _ rng: inout FuzzRandom) {
        switch Int.random(in: 0..<9, using: &rng) {
        case 0 where !bytes.isEmpty:
            bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
        case 1 where !bytes.isEmpty:
            bytes[Int.random(in: 0..<bytes.count, using: &rng)] = interestingBytes.randomElement(using: &rng) ?? 0
        case 2:
            bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
        case 3:
            let index = Int.random(in: 0...bytes.count, using: &rng)
            let count = Int.random(in: 1...16, using: &rng)
            bytes.insert(contentsOf: (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: index)
        case 4 where !bytes.isEmpty:
            let start = Int.random(in: 0..<bytes.count, using: &rng)
            bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...32, using: &rng)))
        case 5 where !bytes.isEmpty:
            growLEB(&bytes, at: Int.random(in: 0..<bytes.count, using: &rng), &rng)
        case 6 where !bytes.isEmpty:
            // A CBOR head claiming a huge length or count.
            let index = Int.random(in: 0..<bytes.count, using: &rng)
            let major = bytes[index] & 0xe0
            let head: [UInt8] = [major | 0x1a, 0xff, 0xff, 0xff, UInt8.random(in: 0...255, using: &rng)]
            bytes.replaceSubrange(index..<min(bytes.count, index + 1), with: head)
        case 7 where !bytes.isEmpty:
            let start = Int.random(in: 0..<bytes.count, using: &rng)
            let slice = bytes[start..<min(bytes.count, start + Int.random(in: 1...256, using: &rng))]
            let times = Int.random(in: 1...4, using: &rng)
            for _ in 0..<times { bytes.insert(contentsOf: slice, at: Int.random(in: 0...bytes.count, using: &rng)) }
        default:
            if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
        }
    }

    /// Re-encodes the LEB128 at `index` as a larger value (a length, count or value field).
    static func growLEB(_ bytes: inout [UInt8], at index: Int, _ rng: inout FuzzRandom) {
        let (value, end) = LEB128.scanUnsigned(bytes, from: index, maxLength: 9)
        let grown: UInt64
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: grown = value &+ 1
        case 1: grown = value &* 2 &+ UInt64.random(in: 1...64, using: &rng)
        case 2: grown = UInt64(Int32.max) &+ UInt64.random(in: 0...2, using: &rng)
        default: grown = UInt64.max >> UInt64.random(in: 0...8, using: &rng)
        }
        var encoded: [UInt8] = []
        LEB128.appendUnsigned(grown, to: &encoded)
        bytes.replaceSubrange(index..<end, with: encoded)
    }
}
