import ATProto
import Foundation
import NIOCore
import TestSupport
import Testing

@testable import groundmist_sync

/// `publish` against a loopback fake PDS (also acting as PLC directory and handle resolver).
@Suite struct PublishTests {
    private func publisher(port: Int, transport: AsyncHTTPTransport) -> LocationPublisher {
        LocationPublisher(transport: transport, plcURL: "http://127.0.0.1:\(port)", handleResolver: "http://127.0.0.1:\(port)")
    }

    private func withTransport<T: Sendable>(_ body: (AsyncHTTPTransport) async throws -> T) async throws -> T {
        let transport = AsyncHTTPTransport(timeout: .seconds(5))
        do {
            let result = try await body(transport)
            try await transport.shutdown()
            return result
        } catch {
            try? await transport.shutdown()
            throw error
        }
    }

    @Test func writesTheRecordWithTheSessionsToken() async throws {
        try await withFakePDS { fake, port in
            let published = try await withTransport { transport in
                try await publisher(port: port, transport: transport).publish(
                    host: "sync.example.com",
                    identifier: FakePDS.handle,
                    password: FakePDS.appPassword,
                    pds: "http://127.0.0.1:\(port)"
                )
            }
            #expect(published.did == FakePDS.did)
            #expect(published.uri == "at://\(FakePDS.did)/xyz.groundmist.sync/\(FakePDS.did)")
            let requests = await fake.requests
            #expect(requests.map(\.path) == ["/xrpc/com.atproto.server.createSession", "/xrpc/com.atproto.repo.putRecord"])
            let login = try #require(requests.first?.json)
            #expect(login["identifier"] as? String == FakePDS.handle)
            #expect(login["password"] as? String == FakePDS.appPassword)
            #expect(requests[0].authorization == nil)
            #expect(requests[1].authorization == "Bearer \(FakePDS.accessToken)")
            let put = try #require(requests[1].json)
            #expect(put["repo"] as? String == FakePDS.did)
            #expect(put["collection"] as? String == "xyz.groundmist.sync")
            #expect(put["rkey"] as? String == FakePDS.did)
            let record = try #require(put["record"] as? [String: Any])
            #expect(record["host"] as? String == "sync.example.com")
            #expect(record["$type"] as? String == "xyz.groundmist.sync")
            #expect(record.count == 2)
        }
    }

    @Test func findsThePDSThroughTheHandleAndDIDDocument() async throws {
        try await withFakePDS { fake, port in
            let published = try await withTransport { transport in
                try await publisher(port: port, transport: transport).publish(
                    host: "sync.example.com:8443",
                    identifier: FakePDS.handle,
                    password: FakePDS.appPassword,
                    pds: nil
                )
            }
            #expect(published.pds == "http://127.0.0.1:\(port)")
            let requests = await fake.requests
            #expect(
                requests.map(\.path) == [
                    "/xrpc/com.atproto.identity.resolveHandle", "/\(FakePDS.did)", "/xrpc/com.atproto.server.createSession",
                    "/xrpc/com.atproto.repo.putRecord",
                ]
            )
            #expect(requests[0].query == "handle=\(FakePDS.handle)")
            let record = try #require(requests[3].json?["record"] as? [String: Any])
            #expect(record["host"] as? String == "sync.example.com:8443")
        }
    }

    @Test func aWrongPasswordIsReportedAndNothingIsWritten() async throws {
        try await withFakePDS { fake, port in
            let error = await #expect(throws: PublishError.self) {
                try await withTransport { transport in
                    try await publisher(port: port, transport: transport).publish(
                        host: "sync.example.com",
                        identifier: FakePDS.did,
                        password: "wrong",
                        pds: nil
                    )
                }
            }
            #expect(error?.description.contains("wrong handle or app password") == true)
            let paths = await fake.requests.map(\.path)
            #expect(!paths.contains("/xrpc/com.atproto.repo.putRecord"))
        }
    }

    @Test func anUnreachablePDSNamesTheAddress() async throws {
        // A port nothing listens on: bind a fake, note its port, stop it.
        let port = try await withFakePDS { _, port in port }
        let error = await #expect(throws: PublishError.self) {
            try await withTransport { transport in
                try await publisher(port: port, transport: transport).publish(
                    host: "sync.example.com",
                    identifier: FakePDS.handle,
                    password: FakePDS.appPassword,
                    pds: "http://127.0.0.1:\(port)"
                )
            }
        }
        #expect(error?.description.contains("cannot reach the PDS at http://127.0.0.1:\(port)") == true)
    }

    @Test func hostsMustBeBare() throws {
        #expect(try LocationPublisher.validatedHost("sync.example.com") == "sync.example.com")
        #expect(try LocationPublisher.validatedHost(" sync.example.com:3031 ") == "sync.example.com:3031")
        for bad in ["https://sync.example.com", "sync.example.com/path", "", "sync.example.com:0", "sync.example.com:99999", "a b.com", "u@host"] {
            #expect(throws: PublishError.self, "\(bad)") { try LocationPublisher.validatedHost(bad) }
        }
        do {
            _ = try LocationPublisher.validatedHost("https://sync.example.com/")
        } catch {
            #expect(error.description.contains("without a scheme, e.g. sync.example.com"))
        }
    }

    /// Review item 14: the app password never goes to a PDS over plain http, except on loopback.
    @Test func plainHTTPIsOnlyForALoopbackPDS() throws {
        #expect(try LocationPublisher.validatedServiceURL("https://bsky.social") == "https://bsky.social")
        #expect(try LocationPublisher.validatedServiceURL("http://127.0.0.1:2583") == "http://127.0.0.1:2583")
        #expect(try LocationPublisher.validatedServiceURL("http://localhost:2583") == "http://localhost:2583")
        #expect(try LocationPublisher.validatedServiceURL("http://[::1]:2583") == "http://[::1]:2583")
        for insecure in ["http://pds.example.com", "http://192.168.1.5:2583", "HTTP://pds.example.com"] {
            do {
                _ = try LocationPublisher.validatedServiceURL(insecure)
                Issue.record("accepted \(insecure)")
            } catch {
                #expect(error.description.contains("clear text"), "\(insecure)")
            }
        }
        for bad in ["ftp://pds.example.com", "https://", "pds.example.com", ""] {
            #expect(throws: PublishError.self, "\(bad)") { try LocationPublisher.validatedServiceURL(bad) }
        }
    }

    @Test func identifiersAreValidatedBeforeAnyRequest() async throws {
        try await withTransport { transport in
            let publisher = LocationPublisher(transport: transport, plcURL: "http://127.0.0.1:9", handleResolver: "http://127.0.0.1:9")
            await #expect(throws: PublishError.self) { try await publisher.resolveDID("not a handle") }
            await #expect(throws: PublishError.self) { try await publisher.resolveDID("did:") }
            let did: DID = try await publisher.resolveDID("did:web:example.com")
            #expect(did.string == "did:web:example.com")
        }
    }

    /// The executable: env for the account and password, exit codes, no password in any output.
    @Test func theExecutablePublishesFromTheEnvironment() async throws {
        try await withFakePDS { fake, port in
            let work = try temporaryDirectory("publish")
            defer { try? FileManager.default.removeItem(at: work) }
            var environment = ProcessInfo.processInfo.environment
            environment["ATPROTO_DID"] = FakePDS.did
            environment["ATPROTO_APP_PASSWORD"] = FakePDS.appPassword
            environment["PLC_URL"] = "http://127.0.0.1:\(port)"
            environment["ATPROTO_HANDLE"] = nil
            environment["ATPROTO_PDS_URL"] = nil
            let ok = try await runCLIAsync(["publish", "sync.example.com"], environment: environment, directory: work)
            #expect(ok.status == 0, "\(ok.stderr)")
            let stdout = String(decoding: ok.stdout, as: UTF8.self)
            #expect(stdout.contains("published at://\(FakePDS.did)/xyz.groundmist.sync/\(FakePDS.did)"))
            #expect(!stdout.contains(FakePDS.appPassword) && !ok.stderr.contains(FakePDS.appPassword))
            #expect(await fake.requests.count == 3)

            environment["ATPROTO_APP_PASSWORD"] = "wrong-password"
            let refused = try await runCLIAsync(
                ["publish", "sync.example.com", "--pds", "http://127.0.0.1:\(port)"],
                environment: environment,
                directory: work
            )
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("wrong handle or app password"))
            #expect(!refused.stderr.contains("wrong-password"))

            environment["ATPROTO_APP_PASSWORD"] = nil
            environment["ATPROTO_DID"] = nil
            let noAccount = try await runCLIAsync(["publish", "sync.example.com"], environment: environment, directory: work)
            #expect(noAccount.status == 64)
            #expect(noAccount.stderr.contains("--handle"))
        }
    }
}
