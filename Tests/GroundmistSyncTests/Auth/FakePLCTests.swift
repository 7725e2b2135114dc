import ATProto
import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import TestSupport
import Testing

@testable import GroundmistSync

/// The production resolver stack (`NetworkDIDResolver` behind `CachingDIDResolver`, as `serve` builds
/// it from PLC_URL) against a fake PLC directory on loopback.
@Suite struct FakePLCTests {
    @Test func serviceAuthLoginResolvesTheOwnerThroughPLC() async throws {
        let owner = try TestOwner()
        let transport = AsyncHTTPTransport()
        do {
            try await withFakePLC(documents: [owner.did.string: owner.documentJSON]) { plcURL in
                try await withTemporaryDirectory { dataDirectory in
                    let resolver = CachingDIDResolver(upstream: NetworkDIDResolver(transport: transport, plcURL: plcURL))
                    let authority = try await makeAuthority(owner: owner, dataDirectory: dataDirectory, resolver: resolver)
                    try await withAuthServer(authority: authority) { port in
                        let (token, _) = try await serviceAuthLogin(port: port, owner: owner)
                        #expect(try await upgradeStatus(port: port, path: "/?token=\(token)") == 101)
                    }
                }
            }
            // An owner the directory does not know: the server cannot check the signature, so 503.
            let stranger = try TestOwner()
            try await withFakePLC(documents: [:]) { plcURL in
                try await withTemporaryDirectory { dataDirectory in
                    let resolver = CachingDIDResolver(upstream: NetworkDIDResolver(transport: transport, plcURL: plcURL))
                    let authority = try await makeAuthority(owner: stranger, dataDirectory: dataDirectory, resolver: resolver)
                    try await withAuthServer(authority: authority) { port in
                        let jwt = try stranger.serviceAuthToken(aud: stranger.serviceAudience)
                        let (response, _) = try await postAuthenticate(port: port, headers: [("Authorization", "Bearer \(jwt)")])
                        #expect(response.status == 503)
                        #expect(response.headers["retry-after"] != nil)
                    }
                }
            }
        } catch {
            try? await transport.shutdown()
            throw error
        }
        try await transport.shutdown()
    }
}
