import ATProto
import AutomergeCore
import AutomergeRepo
import Foundation
import GroundmistSync
import NIOConcurrencyHelpers
import NIOCore

/// One parser reachable from the network or the data directory, with its seed corpus. `run`
/// feeds it one input; a thrown, typed error is the expected answer to garbage, so the only
/// failures are a trap, a hang or a runaway allocation, which the engine watches for.
struct FuzzTarget: Sendable {
    let name: String
    let corpus: [[UInt8]]
    let run: @Sendable ([UInt8]) -> Void
}

extension FuzzTarget {
    static let names = [
        "cbor", "repo-message", "sync-message", "change-chunk", "document-chunk", "sync-state",
        "jwt", "dpop-proof", "did-document", "dotenv", "sessions-file",
    ]

    /// Tight limits, so a mutated count costs a failed check rather than real memory.
    static let documentLimits = DocumentLimits(maximumChanges: 1 << 16, maximumOps: 1 << 18)

    /// Every target, seeded from `fixtures` (the shared fixtures folder) when it exists.
    static func all(fixtures: Corpus) -> [FuzzTarget] {
        [
            FuzzTarget(name: "cbor", corpus: fixtures.wireMessages + fixtures.builtInCBOR) { bytes in
                _ = try? CBORDecoder.decode(bytes)
            },
            FuzzTarget(name: "repo-message", corpus: fixtures.wireMessages + fixtures.builtInCBOR) { bytes in
                // The server decodes a frame in place, the client and tests from an array: both
                // must give the same message, or both refuse it (a difference traps: a finding).
                // Compared by their encodings: a NaN inside an unknown message is not equal to itself.
                let fromArray = (try? RepoMessage(decoding: bytes))?.encoded()
                let fromFrame = (try? RepoMessage(decoding: ByteBuffer(bytes: bytes)))?.encoded()
                if fromArray != fromFrame { fatalError("a frame and an array decode differently") }
            },
            FuzzTarget(name: "sync-message", corpus: fixtures.syncMessages) { bytes in
                guard let message = try? SyncMessage.decode(bytes) else { return }
                // What the repo does with a peer's message: apply it, then answer.
                var graph = ChangeGraph()
                var state = SyncState()
                _ = try? graph.receiveSyncMessage(&state, message)
                _ = graph.generateSyncMessage(&state)
            },
            FuzzTarget(name: "change-chunk", corpus: fixtures.changeChunks) { bytes in
                var graph = ChangeGraph()
                _ = try? graph.load(bytes, limits: documentLimits, inflation: .syncMessage)
            },
            FuzzTarget(name: "document-chunk", corpus: fixtures.documents) { bytes in
                var graph = ChangeGraph()
                _ = try? graph.load(bytes, limits: documentLimits, inflation: .syncMessage)
            },
            FuzzTarget(name: "sync-state", corpus: fixtures.syncStates) { bytes in
                _ = try? SyncState(decoding: bytes)
            },
            FuzzTarget(name: "jwt", corpus: fixtures.tokens) { bytes in
                let text = String(decoding: bytes, as: UTF8.self)
                if let jws = try? CompactJWS(text) { _ = JSONValue.object(from: jws.payload) }
                _ = try? UnverifiedAccessToken(decoding: text)
            },
            FuzzTarget(name: "dpop-proof", corpus: fixtures.proofs) { bytes in
                let verifier = DPoPVerifier(configuration: DPoPConfiguration(publicURL: "https://sync.example.com"), nonces: nil)
                let text = String(decoding: bytes, as: UTF8.self)
                _ = try? verifier.check(proofHeaders: [text], method: "POST", path: "/xrpc/authenticate", accessToken: nil)
                if let jws = try? CompactJWS(text) { _ = try? ECPublicJWK(json: jws.header["jwk"]) }
            },
            FuzzTarget(name: "did-document", corpus: fixtures.didDocuments) { bytes in
                guard let did = try? DID("did:plc:ewvi7nxzyoun6zhxrhs64oiz") else { return }
                guard let document = try? DIDDocument(json: bytes, expectedDID: did) else { return }
                _ = try? document.atprotoSigningKey()
                _ = document.pdsEndpoint
                _ = document.claimedHandle
            },
            FuzzTarget(name: "dotenv", corpus: Corpus.builtInDotEnv) { bytes in
                _ = try? DotEnv.parse(String(decoding: bytes, as: UTF8.self))
            },
            FuzzTarget(name: "sessions-file", corpus: Corpus.builtInSessions) { bytes in
                SessionsFileProbe.shared.load(bytes)
            },
        ]
    }
}

/// Decodes each input as the sessions file's `Session` records (the store's own `Codable` types
/// and date strategy) and, every 64th input, writes it as `sessions.json` in a scratch data
/// directory and opens the real store (file I/O makes that path 50× slower).
final class SessionsFileProbe: Sendable {
    static let shared = SessionsFileProbe()
    let dataDirectory: String
    private let calls = NIOLockedValueBox(0)

    /// The file's shape (`SessionStore`'s own wrapper is internal).
    struct File: Decodable {
        var version: Int
        var sessions: [Session]
    }

    init() {
        dataDirectory = NSTemporaryDirectory() + "groundmist-fuzz-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.createDirectory(atPath: dataDirectory + "/.groundmist", withIntermediateDirectories: true)
    }

    func load(_ bytes: [UInt8]) {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        _ = try? decoder.decode(File.self, from: Data(bytes))
        let call = calls.withLockedValue { value in
            defer { value += 1 }
            return value
        }
        guard call % 64 == 0 else { return }
        let path = dataDirectory + "/.groundmist/sessions.json"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
        _ = try? SessionStore(dataDirectory: dataDirectory)
    }
}
