import ATProto
import AutomergeCore
import AutomergeRepo
import Crypto
import Foundation
import GroundmistSync
import Hummingbird
import Logging
import TestSupport
import Testing

/// The built `groundmist-sync serve`, as an operator runs it, at every `LOG_LEVEL`: its whole
/// output (stdout and stderr, whatever logger wrote it) must hold no credential after a
/// service-auth login, a DPoP login and a WebSocket sync. The owner's DID document comes from a
/// fake PLC directory on loopback (`PLC_URL`).
@Suite(.serialized) struct ServeLogLevelTests {
    static let publicURL = "https://sync.example.com"
    /// A port that was free a moment ago.
    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
            }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test(arguments: Logger.Level.allCases)
    func servePrintsNoCredentialAtLevel(_ level: Logger.Level) async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("groundmist-sync")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "swift test builds the executable beside the test bundle")
        let owner = try TestOwner()
        let secret = "s3cr3t-" + UUID().uuidString + "-" + UUID().uuidString
        let directory = try temporaryDirectory("serve-log-level")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("output.log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let transport = AsyncHTTPTransport(timeout: .seconds(10))
        var credentials: [String] = []
        do {
            credentials = try await withFakePLC(documents: [owner.did.string: owner.documentJSON]) { plcURL in
                let port = try Self.freePort()
                let process = Process()
                process.executableURL = binary
                process.arguments = ["serve"]
                process.currentDirectoryURL = directory
                process.environment = [
                    "ATPROTO_DID": owner.did.string, "GROUNDMIST_SYNC_SECRET_KEY": secret, "PUBLIC_URL": Self.publicURL,
                    "PLC_URL": plcURL, "HOST": "127.0.0.1", "PORT": "\(port)", "DATA_DIR": directory.appendingPathComponent("data").path,
                    "LOG_LEVEL": level.rawValue, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                ]
                let handle = try FileHandle(forWritingTo: output)
                process.standardOutput = handle
                process.standardError = handle
                process.standardInput = FileHandle.nullDevice
                try process.run()
                defer {
                    process.interrupt()
                    process.waitUntilExit()
                    try? handle.close()
                }
                try await Self.waitUntilServing(port: port, transport: transport)
                return try await Self.exercise(
                    port: port,
                    owner: owner,
                    dataDirectory: directory.appendingPathComponent("data").path,
                    transport: transport
                )
            }
        } catch {
            try? await transport.shutdown()
            throw error
        }
        try await transport.shutdown()

        let text = String(decoding: try Data(contentsOf: output), as: UTF8.self)
        #expect(text.contains("Groundmist sync server ") && text.contains(" on ws://127.0.0.1:"))
        // The capture sees the server's own lines: the service lifecycle's (which once printed
        // the key) at debug, the logins at info, the sessions and repositories opened.
        if level <= .debug { #expect(text.contains("SessionWatcher")) }
        if level <= .info { #expect(text.contains("login") && text.contains("WebSocket accepted")) }
        if level <= .notice { #expect(text.contains("login waiting for approval")) }
        let bytes = Array(secret.utf8)
        let secretForms = [
            secret, String(secret.prefix(12)), bytes.map { String(format: "%02x", $0) }.joined(),
            bytes.prefix(8).map(String.init).joined(separator: ", "), bytes.prefix(8).map(String.init).joined(separator: ","),
        ]
        for form in secretForms { #expect(!text.contains(form), "the secret key appears at \(level)") }
        #expect(credentials.count >= 6)
        for credential in credentials {
            let signature = credential.split(separator: ".").last.map(String.init) ?? credential
            #expect(!text.contains(credential), "a credential appears at \(level)")
            #expect(!text.contains(signature), "a signature part appears at \(level)")
        }
    }

    static func waitUntilServing(port: Int, transport: AsyncHTTPTransport) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let response = try? await transport.send(
                HTTPRequestData(method: "GET", url: "http://127.0.0.1:\(port)/healthz"),
                maximumResponseSize: 1024
            ),
                response.status == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CommandFailureForTests(description: "the server did not start")
    }

    static func post(
        port: Int,
        headers: [(String, String)],
        transport: AsyncHTTPTransport
    ) async throws -> (status: Int, headers: [String: String], json: [String: Any]) {
        let body = Array(#"{"lexiconAuthorityDomain":"xyz.groundmist.library","rootDocUrl":null}"#.utf8)
        let response = try await transport.send(
            HTTPRequestData(
                method: "POST",
                url: "http://127.0.0.1:\(port)/authenticate",
                headers: headers.map { HTTPHeader($0.0, $0.1) } + [HTTPHeader("Content-Type", "application/json")],
                body: body
            ),
            maximumResponseSize: 1 << 16
        )
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        let fields = Dictionary(response.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        return (response.status, fields, json)
    }

    /// Logs in both ways, approves the DPoP session as the CLI would, syncs with each token.
    static func exercise(port: Int, owner: TestOwner, dataDirectory: String, transport: AsyncHTTPTransport) async throws -> [String] {
        var credentials: [String] = []
        let jwt = try owner.serviceAuthToken(aud: "did:web:sync.example.com#groundmist_sync")
        credentials.append(jwt)
        let service = try await post(port: port, headers: [("Authorization", "Bearer \(jwt)")], transport: transport)
        #expect(service.status == 200)
        let serviceToken = try #require(service.json["token"] as? String)
        credentials.append(serviceToken)
        try await sync(port: port, token: serviceToken)

        let app = TestDPoPApp()
        let accessToken = app.accessToken(sub: owner.did.string)
        let firstProof = try app.proof(htu: "\(Self.publicURL)/authenticate", accessToken: accessToken, nonce: nil)
        credentials += [accessToken, firstProof]
        let challenge = try await post(port: port, headers: [("Authorization", "DPoP \(accessToken)"), ("DPoP", firstProof)], transport: transport)
        let nonce = try #require(challenge.headers["dpop-nonce"])
        let proof = try app.proof(htu: "\(Self.publicURL)/authenticate", accessToken: accessToken, nonce: nonce)
        credentials.append(proof)
        let dpop = try await post(port: port, headers: [("Authorization", "DPoP \(accessToken)"), ("DPoP", proof)], transport: transport)
        #expect(dpop.status == 200)
        let dpopToken = try #require(dpop.json["token"] as? String)
        credentials.append(dpopToken)
        let store = try SessionStore(dataDirectory: dataDirectory)
        let pending = try #require(await store.all().first { $0.method == .dpop })
        _ = try await store.setStatus(pending.id, .approved)
        try await sync(port: port, token: dpopToken)
        return credentials
    }

    /// Writes one change over a WebSocket with `token` and waits until the server holds it.
    static func sync(port: Int, token: String) async throws {
        var quiet = Logger(label: "client")
        quiet.logLevel = .critical
        let client = RepoClient(peerId: "client-\(UUID().uuidString)", storageId: "storage-\(UUID().uuidString)")
        let document = DocumentId.random()
        let logger = quiet
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = try await RepoWebSocketClient(url: "ws://127.0.0.1:\(port)/?token=\(token)", endpoint: client, logger: logger).run() }
            let deadline = ContinuousClock.now + .seconds(20)
            while await !client.isJoined {
                guard ContinuousClock.now < deadline else { throw CommandFailureForTests(description: "not joined") }
                try await Task.sleep(for: .milliseconds(20))
            }
            let actor = ActorId(Array(repeating: 0x5c, count: 16))
            let change = Change(
                deps: [],
                actor: actor,
                seq: 1,
                startOp: 1,
                ops: [Op(object: .root, key: .map("k"), action: .put, value: .int(1))]
            ).encodeChunk()
            try await client.apply([change], to: document)
            try await client.waitUntilServerHas(await client.heads(of: document), in: document)
            await client.close()
            group.cancelAll()
        }
    }
}

struct CommandFailureForTests: Error, CustomStringConvertible {
    let description: String
}
