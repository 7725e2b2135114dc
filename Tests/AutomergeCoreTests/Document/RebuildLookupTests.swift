import Testing

@testable import AutomergeCore

/// The shortcuts the rebuild's hot loops take must answer exactly what the plain versions do.
@Suite struct RebuildLookupTests {
    /// An owner lookup with a hint (right, wrong or out of range) finds the same change as a
    /// search, for every counter of every actor, and nothing past an actor's last change.
    @Test func hintedOwnerLookupMatchesTheSearch() async throws {
        try await offPool {
            let (document, _) = try StreamingRebuildTests.generate(changes: 60)
            guard case .document(let bytes) = try #require(try ChunkReader.readAll(try document.save()).first) else {
                throw AutomergeError.invalidDocument("not a document")
            }
            let chunk = try DocumentChunk(bytes)
            let rows = try ChangeRows(chunk, limits: .default)
            let owners = OpOwners(rows, actorCount: chunk.actors.count)
            let maxOp = (0..<rows.count).map { rows.maxOp[$0] }.max() ?? 0
            var checked = 0
            for actor in 0..<Int32(chunk.actors.count) {
                for counter in UInt32(1)...(maxOp + 2) {
                    let searched = owners.owner(actor: actor, counter: counter, hint: nil)
                    for hint in [0, 1, 2, 5, 1_000] {
                        let hinted = owners.owner(actor: actor, counter: counter, hint: hint)
                        #expect(hinted?.row == searched?.row && hinted?.position == searched?.position)
                        #expect(hinted?.above == searched?.above && hinted?.through == searched?.through)
                    }
                    if let searched {
                        // The owner holds the counter.
                        #expect(counter > searched.above && counter <= searched.through)
                        checked += 1
                    }
                }
                #expect(owners.owner(actor: actor, counter: maxOp + 1, hint: nil) == nil)
            }
            #expect(checked > 0)
            #expect(owners.owner(actor: Int32(chunk.actors.count), counter: 1, hint: 0) == nil)
            #expect(owners.owner(actor: -1, counter: 1, hint: 0) == nil)
        }
    }

    /// The chunk hash is the SHA-256 of exactly the given range of the array.
    @Test func chunkHashCoversExactlyItsRange() throws {
        let abc = Array("abc".utf8)
        let expected = try #require(ChangeHash(hex: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        #expect(ChangeHash.sha256(of: abc, 0..<3) == expected)
        #expect(ChangeHash.sha256(of: [0xff] + abc + [0xee], 1..<4) == expected)
        let empty = try #require(ChangeHash(hex: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
        #expect(ChangeHash.sha256(of: abc, 2..<2) == empty)
    }
}
