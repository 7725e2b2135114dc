import AutomergeCore
import ByteEncodings
import Foundation
import TestSupport
import Testing

@testable import AutomergeRepo

/// The repo's configurable bounds reach the code that enforces them.
@Suite struct RepoLimitsTests {
    /// A compressed change chunk whose body inflates to `size` zero bytes (its checksum is wrong:
    /// the inflation bound must trip before anything reads it). The body is raw DEFLATE in stored
    /// blocks (RFC 1951 §3.2.4), so the test needs no compressor.
    static func compressedChunk(inflatingTo size: Int) -> [UInt8] {
        var body: [UInt8] = []
        var left = size
        repeat {
            let length = min(left, 0xFFFF)
            left -= length
            body.append(left == 0 ? 1 : 0)
            body += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            body += [UInt8](repeating: 0, count: length)
        } while left > 0
        var chunk: [UInt8] = [0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, ChunkType.compressedChange.rawValue]
        LEB128.appendUnsigned(UInt64(body.count), to: &chunk)
        return chunk + body
    }

    /// `Repo.Configuration.inflation` (`GROUNDMIST_MAX_INFLATED_CHANGE_BYTES`) bounds a peer's
    /// compressed change while it inflates: the peer is told the configured limit.
    @Test func configuredInflationLimitRefusesASyncMessage() async throws {
        let configuration = Repo.Configuration(
            peerId: "server",
            sharePolicy: .requestsOnly,
            inflation: InflationLimits(perStream: 64 << 10, total: 128 << 10)
        )
        let repo = Repo(configuration: configuration, storage: nil)
        let client = await RepoClient.scripted(to: repo, peerId: "bomber")
        _ = try await client.join()
        let document = DocumentId.random()
        let message = SyncMessage(changes: [Self.compressedChunk(inflatingTo: 100 << 10)])
        await client.send(.sync(DocumentSyncMessage(senderId: "bomber", targetId: "server", documentId: document.string, data: message.encode())))
        guard case .error(let error) = try await client.next() else { throw UnexpectedReply("no error") }
        #expect(error.message.hasPrefix("invalid sync message"))
        #expect(error.message.contains("limit of 65536 bytes"))
    }
}
