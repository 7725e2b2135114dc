import ByteEncodings
import Foundation
import TestSupport

@testable import AutomergeCore

/// Decodes the sync fixture JSON under `../shared/fixtures/automerge/sync` (see `SharedFixtures`).
/// Tests that need it are disabled, with a reason, when it is absent.
enum SyncFixtures {
    static let automergeRoot: URL = SharedFixtures.folder("automerge")

    static let syncRoot = SharedFixtures.folder("automerge/sync")
    static let slowSyncMessage = automergeRoot.appendingPathComponent("upstream/slowSyncMessage.amrgsync")

    static var available: Bool { SharedFixtures.isAvailable("automerge/sync", marker: "messages/index.json") }

    static var slowSyncAvailable: Bool {
        FileManager.default.fileExists(atPath: slowSyncMessage.path)
            && FileManager.default.fileExists(atPath: slowSyncMessage.path + ".meta.json")
    }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
    }

    // MARK: - JSON shapes (see fixtures/automerge/README.md "Sync message JSON")

    struct DecodedHave: Decodable {
        let lastSync: [String]
        let bloom: String
    }

    struct Decoded: Decodable {
        let type: String
        let heads: [String]
        let need: [String]
        let have: [DecodedHave]
        let changes: [String]
        let supportedCapabilities: [String]?
    }

    struct ChangeAnnotation: Decodable {
        let chunkType: Int?
        let hash: String?
    }

    struct Annotations: Decodable {
        let bytes: Int
        let firstByte: String
        let trailerHex: String
        let changes: [ChangeAnnotation]
    }

    /// One recorded message, from `sync/messages/*.json` or a conversation's `messages`.
    struct Message: Decodable {
        let hex: String
        let decoded: Decoded
        let annotations: Annotations
    }

    struct NamedMessage {
        let name: String
        let message: Message
        /// The `.bin` beside the JSON, when there is one.
        let binary: [UInt8]?
    }

    struct Conversation: Decodable {
        struct Side: Decodable {
            let syncState: String?
            let heads: [String]
        }
        struct Final: Decodable {
            let a: Side
            let b: Side
        }
        let name: String
        let messages: [Message]
        let final: Final
    }

    struct SyncState: Decodable {
        struct Restored: Decodable { let sharedHeads: [String] }
        let name: String
        let hex: String
        let decodeSyncState: Restored
    }

    struct SlowSyncMeta: Decodable {
        struct Summary: Decodable {
            let changeCount: Int
            let changeHashes: [String]
            let heads: [String]
            let have: [DecodedHave]
        }
        let decodeSyncMessage: Summary
    }

    // MARK: - Loading

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    static func json<T: Decodable>(_ type: T.Type, _ url: URL) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    static func jsonFiles(in folder: String) throws -> [URL] {
        let url = syncRoot.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" && $0.lastPathComponent != "index.json" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    static func messages() throws -> [NamedMessage] {
        try jsonFiles(in: "messages").map { url in
            let binary = url.deletingPathExtension().appendingPathExtension("bin")
            let name = url.deletingPathExtension().lastPathComponent
            return NamedMessage(
                name: name,
                message: try json(Message.self, url),
                binary: FileManager.default.fileExists(atPath: binary.path) ? try bytes(binary) : nil
            )
        }
    }

    static func conversations() throws -> [Conversation] {
        try jsonFiles(in: "conversations").map { try json(Conversation.self, $0) }
    }

    /// Every recorded message: the standalone ones and every message of every conversation.
    static func allMessages() throws -> [NamedMessage] {
        var result = try messages()
        for conversation in try conversations() {
            for (index, message) in conversation.messages.enumerated() {
                result.append(NamedMessage(name: "\(conversation.name)#\(index)", message: message, binary: nil))
            }
        }
        return result
    }

    static func syncStates() throws -> [(state: SyncState, binary: [UInt8]?)] {
        try jsonFiles(in: "sync-state").map { url in
            let binary = url.deletingPathExtension().appendingPathExtension("bin")
            return (
                try json(SyncState.self, url),
                FileManager.default.fileExists(atPath: binary.path) ? try bytes(binary) : nil
            )
        }
    }

    static func hex(_ string: String) throws -> [UInt8] {
        guard let bytes = Hex.decode(string) else { throw FixtureError(description: "bad hex \(string.prefix(20))") }
        return bytes
    }

    static func hashes(_ strings: [String]) throws -> [ChangeHash] {
        try strings.map { string in
            guard let hash = ChangeHash(hex: string) else { throw FixtureError(description: "bad hash \(string)") }
            return hash
        }
    }
}
