import ATProto
import AutomergeRepo
import Crypto
import Foundation
import HTTPTypes
import Logging
import TestSupport
import Testing

@testable import GroundmistSync

/// Nothing secret reaches the log at any level: the real server (production resolver stack against
/// a fake PLC directory) runs a service-auth login, a DPoP login and a WebSocket sync at each of
/// trace … critical, and the rendered output is searched for every credential it handled.
@Suite(.serialized) struct SecretLoggingTests {
    /// The secret in each of the forms a careless description would print it.
    static func forms(ofSecret secret: String) -> [String] {
        let bytes = Array(secret.utf8)
        return [
            secret,
            String(secret.prefix(12)),
            bytes.map { String(format: "%02x", $0) }.joined(),
            bytes.prefix(8).map(String.init).joined(separator: ", "),
            bytes.prefix(8).map(String.init).joined(separator: ","),
        ]
    }

    /// A token and its signature part (the last segment), which alone would let a log reader replay it.
    static func forms(ofToken token: String) -> [String] {
        [token] + (token.split(separator: ".").last.map { [String($0)] } ?? [])
    }

    @Test(arguments: Logger.Level.allCases)
    func noCredentialIsLoggedAtLevel(_ level: Logger.Level) async throws {
        let owner = try TestOwner()
        let secret = "s3cr3t-" + UUID().uuidString + "-" + UUID().uuidString
        let text = LogCapture()
        let logger = text.logger(level: level)
        let transport = AsyncHTTPTransport()
        var credentials: [String] = []
        do {
            credentials = try await withFakePLC(documents: [owner.did.string: owner.documentJSON]) { plcURL in
                try await withTemporaryDirectory { dataDirectory in
                    let resolver = CachingDIDResolver(upstream: NetworkDIDResolver(transport: transport, plcURL: plcURL), logger: logger)
                    let authority = try await makeAuthority(
                        owner: owner,
                        dataDirectory: dataDirectory,
                        secret: secret,
                        resolver: resolver,
                        logger: logger
                    )
                    let server = try GroundmistServer(configuration: .testing(), authority: authority, logger: logger)
                    return try await withRunningServer(server, timeout: .seconds(60), "log-level test") { port in
                        try await Self.exercise(port: port, owner: owner, authority: authority)
                    }
                }
            }
        } catch {
            try? await transport.shutdown()
            throw error
        }
        try await transport.shutdown()

        let output = text.text
        #expect(!credentials.isEmpty)
        if level <= .debug {
            // Proof that the capture sees the service lifecycle's lines, which once held the key.
            #expect(output.contains("SessionWatcher"))
        }
        for form in Self.forms(ofSecret: secret) {
            #expect(!output.contains(form), "the secret key appears at \(level) as \(form.prefix(12))…")
        }
        for credential in credentials {
            for form in Self.forms(ofToken: credential) {
                #expect(!output.contains(form), "a credential appears at \(level): \(form.prefix(12))…")
            }
        }
    }

    /// A service-auth login, a DPoP login (approved by the owner) and a WebSocket sync with each
    /// token; returns every credential that crossed the wire.
    static func exercise(port: Int, owner: TestOwner, authority: SyncAuthority) async throws -> [String] {
        var credentials: [String] = []
        // Service-auth.
        let jwt = try owner.serviceAuthToken(aud: owner.serviceAudience)
        credentials.append(jwt)
        let (serviceResponse, serviceBody) = try await postAuthenticate(port: port, headers: [("Authorization", "Bearer \(jwt)")])
        #expect(serviceResponse.status == 200)
        let serviceToken = try #require(serviceBody["token"] as? String)
        credentials.append(serviceToken)
        try await AuthFlowTests.sync(port: port, token: serviceToken, document: DocumentId.random())

        // DPoP: the nonce handshake, then the login, then the owner's approval.
        let app = TestDPoPApp()
        let accessToken = app.accessToken(sub: owner.did.string)
        credentials.append(accessToken)
        let firstProof = try app.proof(htu: DPoPLoginTests.htu, accessToken: accessToken, nonce: nil)
        credentials.append(firstProof)
        let (challenge, _) = try await postAuthenticate(
            port: port,
            headers: [("Authorization", "DPoP \(accessToken)"), ("DPoP", firstProof)]
        )
        let nonce = try #require(challenge.headers["dpop-nonce"])
        let proof = try app.proof(htu: DPoPLoginTests.htu, accessToken: accessToken, nonce: nonce)
        credentials.append(proof)
        let (dpopResponse, dpopBody) = try await postAuthenticate(
            port: port,
            headers: [("Authorization", "DPoP \(accessToken)"), ("DPoP", proof), ("User-Agent", "SecretLoggingTests")]
        )
        #expect(dpopResponse.status == 200)
        let dpopToken = try #require(dpopBody["token"] as? String)
        credentials.append(dpopToken)
        // Refused while pending (logged), then accepted once approved.
        #expect(try await upgradeStatus(port: port, path: "/?token=\(dpopToken)") == 401)
        let pending = try #require(await authority.sessions.all().first { $0.method == .dpop })
        _ = try await authority.sessions.setStatus(pending.id, .approved)
        try await AuthFlowTests.sync(port: port, token: dpopToken, document: DocumentId.random())

        // A forged token and a replayed one: refusals are logged too.
        let forged = try owner.serviceAuthToken(aud: owner.serviceAudience, signer: .init())
        credentials.append(forged)
        #expect(try await postAuthenticate(port: port, headers: [("Authorization", "Bearer \(forged)")]).0.status == 401)
        #expect(try await postAuthenticate(port: port, headers: [("Authorization", "Bearer \(jwt)")]).0.status == 401)
        #expect(try await upgradeStatus(port: port, path: "/?token=\(serviceToken)x") == 401)
        return credentials
    }

    @Test func secretTypesPrintARedaction() throws {
        let owner = try TestOwner()
        let key = Secret(text: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
        #expect("\(key)" == "Secret(…, 64 bytes)")
        #expect(String(reflecting: key) == "Secret(…, 64 bytes)")
        var dumped = ""
        dump(key, to: &dumped)
        #expect(!dumped.contains("0123") && !dumped.contains("48"))
        // A parsed token and a login response (which carries the sync token) print no token part.
        let jwt = try owner.serviceAuthToken(aud: owner.serviceAudience)
        let signaturePart = String(jwt.split(separator: ".")[2])
        let payloadPart = String(jwt.split(separator: ".")[1])
        let jws = try CompactJWS(jwt)
        let response = JSONResponse(status: .ok, headers: [:], body: #"{"result":"OK","token":"\#(jwt)"}"#)
        let grant = LoginGrant(token: jwt, rootDocUrl: nil)
        let result = LoginResult(.approved(grant), dpopNonce: "nonce")
        for value in [jws as Any, response as Any, grant as Any, LoginOutcome.pending(grant) as Any, result as Any] {
            var dumpedValue = ""
            dump(value, to: &dumpedValue)
            for rendered in ["\(value)", String(reflecting: value), dumpedValue] {
                #expect(!rendered.contains(signaturePart) && !rendered.contains(payloadPart), "\(rendered)")
            }
        }
        let configuration = AuthenticationConfiguration(ownerDID: owner.did, secretKey: key, publicURL: testPublicURL)
        for rendered in [
            "\(configuration)", String(reflecting: configuration),
            {
                var s = ""
                dump(configuration, to: &s)
                return s
            }(),
        ] {
            #expect(!rendered.contains("0123"))
            #expect(!rendered.contains("48, 49"))
        }
    }
}
