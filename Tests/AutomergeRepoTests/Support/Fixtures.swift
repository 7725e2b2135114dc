import AutomergeCore
import ByteEncodings
import Foundation
import TestSupport
import Testing

/// The shared fixtures under `../shared/fixtures/automerge` (see `SharedFixtures`), so tests skip
/// cleanly on a fresh clone that does not have them.
enum Fixtures {
    static let automerge: URL = SharedFixtures.folder("automerge")
    static let wire = SharedFixtures.folder("automerge/wire")
    static let nodefs = SharedFixtures.folder("automerge/nodefs")

    static var wireAvailable: Bool { SharedFixtures.isAvailable("automerge/wire", marker: "index.json") }
    static var nodefsAvailable: Bool { SharedFixtures.isAvailable("automerge/nodefs", marker: "manifest.json") }

    static let skipMessage: Comment = SharedFixtures.skipMessage("automerge")

    /// One captured WebSocket frame.
    struct Frame {
        let file: String
        let seq: Int
        let direction: String
        let bytes: [UInt8]
        let decoded: JSONValue
    }

    /// Every frame of every `wire/*.jsonl` file, in file and line order.
    static func wireFrames() throws -> [Frame] {
        let names = try FileManager.default.contentsOfDirectory(atPath: wire.path)
            .filter { $0.hasSuffix(".jsonl") }
            .sorted()
        var frames: [Frame] = []
        for name in names {
            let text = try String(contentsOf: wire.appendingPathComponent(name), encoding: .utf8)
            for line in text.split(separator: "\n") where !line.isEmpty {
                let object = try JSONValue.parse(String(line))
                guard case .number(let seq)? = object["seq"], let seqValue = Int(seq),
                    case .string(let direction)? = object["dir"],
                    case .string(let hex)? = object["hex"], let bytes = Hex.decode(hex),
                    let decoded = object["decoded"]
                else {
                    throw FixtureError.malformed("\(name): \(line.prefix(80))")
                }
                frames.append(Frame(file: name, seq: seqValue, direction: direction, bytes: bytes, decoded: decoded))
            }
        }
        return frames
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    static func malformed(_ what: String) -> FixtureError { FixtureError(description: "malformed fixture: \(what)") }
}
