import AutomergeRepo
import Foundation
import TestSupport
import Testing

@testable import groundmist_fuzz

/// The CI slice of `groundmist-fuzz`: the same engine, targets and mutator, a fixed seed and a
/// few thousand inputs per parser, in process (a trap fails the whole test run, which is the
/// point). Seeds come from ../shared/fixtures when present, else from the built-in corpus.
/// Serialized: one parser at a time keeps a core free for the timing-sensitive live-server tests
/// that run alongside.
@Suite(.serialized) struct FuzzSliceTests {
    static let fixtures = SharedFixtures.root.path

    static let inputsPerParser = 2_000

    static let targets = FuzzTarget.all(fixtures: Corpus(fixtures: fixtures))

    @Test func everyParserHasATarget() {
        #expect(Self.targets.map(\.name) == FuzzTarget.names)
        for target in Self.targets { #expect(!target.corpus.isEmpty, "\(target.name) has no seeds") }
    }

    @Test(arguments: FuzzTarget.names)
    func seededSlice(_ name: String) throws {
        let target = try #require(Self.targets.first { $0.name == name })
        // Debug build on a shared CI machine: the 1 s release bound would flag the unmutated
        // 20,000-change fixture document (about 1 s of CPU in debug, under 0.1 s in release).
        let engine = FuzzEngine(target: target, seed: 14, hangThreshold: .seconds(15))
        let result = engine.run(0..<Self.inputsPerParser)
        #expect(result.ran == Self.inputsPerParser)
        #expect(result.findings.isEmpty, "\(result.findings)")
    }

    /// Found by a 1,000,000-input run: an unknown message holding a NaN is not equal to itself,
    /// so the repo-message target compares the frame and array decodings by their encodings (a
    /// regression traps here).
    @Test func anUnknownMessageHoldingANaNIsNoFinding() throws {
        // {"type": "j.in", "x": [1, NaN as a float32]}
        let input: [UInt8] = [
            0xa2, 0x64, 0x74, 0x79, 0x70, 0x65, 0x64, 0x6a, 0x2e, 0x69, 0x6e, 0x61, 0x78, 0x82, 0x01, 0xfa, 0xff, 0xff, 0xff, 0xca,
        ]
        // Two decodings (one value would share its arrays, which compare equal by identity).
        #expect(try RepoMessage(decoding: input) != RepoMessage(decoding: input), "the input no longer holds a NaN")
        let target = try #require(Self.targets.first { $0.name == "repo-message" })
        target.run(input)
    }

    @Test func inputsAreReproducible() throws {
        let target = try #require(Self.targets.first { $0.name == "sync-message" })
        let engine = FuzzEngine(target: target, seed: 99)
        #expect(engine.input(12345) == FuzzEngine(target: target, seed: 99).input(12345))
        #expect((0..<64).contains { engine.input($0) != engine.input($0 + 1) })
    }
}
