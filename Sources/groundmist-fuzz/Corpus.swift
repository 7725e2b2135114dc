import Foundation

/// Seed inputs: the shared fixtures (made with the reference implementations) when present,
/// plus a few built-in entries so every parser has something to mutate without them.
struct Corpus: Sendable {
    var wireMessages: [[UInt8]] = []
    var syncMessages: [[UInt8]] = []
    var changeChunks: [[UInt8]] = []
    var documents: [[UInt8]] = []
    var syncStates: [[UInt8]] = []
    var tokens: [[UInt8]] = []
    var proofs: [[UInt8]] = []
    var didDocuments: [[UInt8]] = []

    /// Larger seeds make each input slow without reaching new code.
    static let maximumSeedSize = 64 * 1024

    /// The fixtures folder: `GROUNDMIST_FIXTURES`, else `../shared/fixtures` from the package root.
    static func defaultDirectory() -> String {
        if let path = ProcessInfo.processInfo.environment["GROUNDMIST_FIXTURES"] { return path }
        return FileManager.default.currentDirectoryPath + "/../shared/fixtures"
    }

    init(fixtures directory: String) {
        let automerge = directory + "/automerge"
        let atproto = directory + "/atproto"
        for file in Self.files(under: automerge + "/wire", suffix: ".jsonl") {
            wireMessages += Self.hexFields(in: file)
        }
        syncMessages = Self.read(Self.files(under: automerge + "/sync/messages", suffix: ".bin"))
        syncStates =
            Self.read(Self.files(under: automerge + "/sync/sync-state", suffix: ".bin"))
            + Self.read(Self.files(under: automerge + "/nodefs", containing: "/sync-state/"))
        changeChunks =
            Self.read(Self.files(under: automerge + "/generated", suffix: ".changes"))
            + Self.read(Self.files(under: automerge + "/generated", suffix: ".incremental"))
            + Self.read(Self.files(under: automerge + "/nodefs", containing: "/incremental/"))
        documents =
            Self.read(Self.files(under: automerge + "/generated", suffix: ".automerge"))
            + Self.read(Self.files(under: automerge + "/upstream", suffix: ".automerge"))
            + Self.read(Self.files(under: automerge + "/nodefs", containing: "/snapshot/"))
        // Sync messages carry changes and documents; repo messages carry sync messages.
        syncMessages += wireMessages.compactMap(Self.syncPayload)
        let jwtStrings = Self.files(under: atproto, suffix: ".json").flatMap(Self.jwtStrings)
        tokens = jwtStrings
        proofs = Self.files(under: atproto + "/dpop", suffix: ".json").flatMap(Self.jwtStrings)
        didDocuments = Self.read(Self.files(under: atproto, suffix: ".did.json"))
        if syncMessages.isEmpty { syncMessages = [[0x42, 0, 0, 1, 0, 0, 0]] }
        if changeChunks.isEmpty { changeChunks = [[0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 1, 0]] }
        if documents.isEmpty { documents = changeChunks }
        if syncStates.isEmpty { syncStates = [[0x43, 0]] }
        if tokens.isEmpty { tokens = [Array("eyJhbGciOiJFUzI1NksifQ.eyJpc3MiOiJkaWQ6cGxjOmEifQ.AAAA".utf8)] }
        if proofs.isEmpty { proofs = tokens }
        if didDocuments.isEmpty { didDocuments = [Array(#"{"id":"did:plc:ewvi7nxzyoun6zhxrhs64oiz","verificationMethod":[]}"#.utf8)] }
    }

    /// CBOR values with every major type, nested, tagged and indefinite.
    var builtInCBOR: [[UInt8]] {
        [
            [0xa2, 0x64, 0x74, 0x79, 0x70, 0x65, 0x64, 0x6a, 0x6f, 0x69, 0x6e, 0x61, 0x78, 0x82, 0x01, 0x20],
            [0x9f, 0x01, 0xbf, 0x61, 0x61, 0xf5, 0xff, 0xff], [0xd8, 0x2a, 0x45, 1, 2, 3, 4, 5], [0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0],
            [0x7f, 0x61, 0x61, 0x61, 0x62, 0xff], [0x5f, 0x41, 0x00, 0xff], [0xf9, 0x7c, 0x00],
        ]
    }

    static let builtInDotEnv: [[UInt8]] = [
        "HOST=127.0.0.1\nPORT=3031\n# comment\nexport DATA_DIR=\".data\"\nLOG_LEVEL='debug'\n",
        "ATPROTO_DID=did:plc:abc\nGROUNDMIST_SYNC_SECRET_KEY=\"a\\nb\"\n\n  KEY = value # trailing\n",
        "=\nA\nB=\"unterminated\nC='x'y\n",
    ].map { Array($0.utf8) }

    static let builtInSessions: [[UInt8]] = [
        #"{"version":1,"sessions":[{"id":"0123456789abcdef","group":"default","method":"dpop","created":"2026-01-01T00:00:00Z","expires":"2026-02-01T00:00:00Z","status":"pending","keyThumbprint":"abc","userAgent":"x","remoteAddress":"127.0.0.1"}]}"#,
        #"{"version":1,"sessions":[{"id":"a","group":"g","method":"cli","created":"2026-01-01T00:00:00Z","lastSeen":"2026-01-02T00:00:00Z","expires":"2027-01-01T00:00:00Z","status":"approved","rootDocUrl":"automerge:x"}]}"#,
        #"{"version":1,"sessions":[]}"#,
    ].map { Array($0.utf8) }

    // MARK: Reading

    static func files(under directory: String, suffix: String) -> [String] {
        files(under: directory).filter { $0.hasSuffix(suffix) }
    }

    static func files(under directory: String, containing part: String) -> [String] {
        files(under: directory).filter { $0.contains(part) }
    }

    static func files(under directory: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var result: [String] = []
        while let path = enumerator.nextObject() as? String { result.append(directory + "/" + path) }
        return result.sorted()
    }

    static func read(_ paths: [String]) -> [[UInt8]] {
        paths.compactMap { path in
            guard let data = FileManager.default.contents(atPath: path), !data.isEmpty, data.count <= maximumSeedSize else { return nil }
            return [UInt8](data)
        }
    }

    /// Every `"hex": "…"` field of a JSON-lines file.
    static func hexFields(in path: String) -> [[UInt8]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let hex = object["hex"] as? String, hex.count <= 2 * maximumSeedSize
            else { return nil }
            return bytes(hex: hex)
        }
    }

    static func bytes(hex: String) -> [UInt8]? {
        var result: [UInt8] = []
        result.reserveCapacity(hex.count / 2)
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next() {
            guard let low = iterator.next(), let h = nibble(high), let l = nibble(low) else { return nil }
            result.append(h << 4 | l)
        }
        return result
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: return nil
        }
    }

    /// The sync message inside a `sync`/`request` repo message (CBOR key "data").
    static func syncPayload(_ cbor: [UInt8]) -> [UInt8]? {
        guard let marker = cbor.firstRange(of: Array("ddata".utf8)) ?? cbor.firstRange(of: [0x64] + Array("data".utf8)) else { return nil }
        var index = marker.upperBound
        guard index < cbor.count, cbor[index] & 0xe0 == 0x40 else { return nil }
        let info = cbor[index] & 0x1f
        index += 1
        var length = 0
        switch info {
        case 0..<24: length = Int(info)
        case 24, 25, 26:
            let width = 1 << Int(info - 24)
            guard index + width <= cbor.count else { return nil }
            for byte in cbor[index..<(index + width)] { length = length << 8 | Int(byte) }
            index += width
        default: return nil
        }
        guard index + length <= cbor.count else { return nil }
        return Array(cbor[index..<(index + length)])
    }

    /// Strings in a JSON file that look like compact JWS (three base64url parts).
    static func jwtStrings(in path: String) -> [[UInt8]] {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 4 * maximumSeedSize,
            let json = try? JSONSerialization.jsonObject(with: data)
        else { return [] }
        var found: [[UInt8]] = []
        func walk(_ value: Any) {
            if let string = value as? String {
                if string.split(separator: ".", omittingEmptySubsequences: false).count == 3, string.hasPrefix("ey") {
                    found.append(Array(string.utf8))
                }
            } else if let array = value as? [Any] {
                array.forEach(walk)
            } else if let object = value as? [String: Any] {
                object.keys.sorted().forEach { walk(object[$0] as Any) }
            }
        }
        walk(json)
        return found
    }
}
