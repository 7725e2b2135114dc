/// A small, fast, seedable generator: the same (seed, parser, index) always gives the same
/// input, so a crash found in a child process can be replayed and saved by its parent.
struct FuzzRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// The generator for input `index` of `target` in a run seeded with `seed`.
    init(seed: UInt64, target: String, index: Int) {
        var mixed = seed ^ 0x9E37_79B9_7F4A_7C15
        for byte in target.utf8 { mixed = (mixed ^ UInt64(byte)) &* 0x100_0000_01B3 }
        mixed ^= UInt64(truncatingIfNeeded: index) &* 0xD6E8_FEB8_6659_FD93
        state = mixed
        _ = next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
