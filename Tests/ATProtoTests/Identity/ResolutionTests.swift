import Testing

@testable import ATProto

@Suite("DID resolution")
struct ResolutionTests {
    static let plcDID = "did:plc:byrelw3cta3ceqlbeymyqv5q"
    static let key = "zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc"

    static func documentJSON(_ did: String, key: String = key) -> [UInt8] {
        Array(
            ("{\"id\":\"\(did)\",\"alsoKnownAs\":[\"at://alice.example.com\"],\"verificationMethod\":[{\"id\":\"\(did)#atproto\","
                + "\"type\":\"Multikey\",\"controller\":\"\(did)\",\"publicKeyMultibase\":\"\(key)\"}]}").utf8
        )
    }

    @Test func plcRequestAndParsing() async throws {
        let transport = FakeTransport { request in
            request.url == "https://plc.test/\(Self.plcDID)"
                ? .success(HTTPResponseData(status: 200, body: Self.documentJSON(Self.plcDID))) : .success(HTTPResponseData(status: 404))
        }
        let resolver = NetworkDIDResolver(transport: transport, plcURL: "https://plc.test/")
        let document = try await resolver.resolve(try DID(Self.plcDID), forceRefresh: false)
        #expect(try document.atprotoSigningKey().multikey == Self.key)
        #expect(document.claimedHandle?.string == "alice.example.com")
        let request = try #require(await transport.requests.first)
        #expect(request.method == "GET")
        #expect(request.headers.contains(HTTPHeader("Accept", "application/did+ld+json,application/json")))
        await #expect(throws: DIDResolutionError.notFound(try DID("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"))) {
            try await resolver.resolve(try DID("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"), forceRefresh: false)
        }
    }

    @Test func defaultPLCAndWebURLs() throws {
        let resolver = NetworkDIDResolver(transport: FakeTransport { _ in .success(HTTPResponseData(status: 500)) })
        #expect(try resolver.documentURL(for: try DID(Self.plcDID)) == "https://plc.directory/\(Self.plcDID)")
        #expect(try resolver.documentURL(for: try DID("did:web:Example.COM")) == "https://example.com/.well-known/did.json")
        #expect(throws: DIDResolutionError.self) { try resolver.documentURL(for: try DID("did:web:localhost%3A8080")) }
        #expect(throws: DIDResolutionError.unsupportedMethod("key")) { try resolver.documentURL(for: try DID("did:key:zQ3s")) }
        #expect(throws: DIDResolutionError.self) { try resolver.documentURL(for: try DID("did:plc:short")) }
        let development = NetworkDIDResolver(transport: FakeTransport { _ in .success(HTTPResponseData(status: 500)) }, allowLocalhost: true)
        #expect(try development.documentURL(for: try DID("did:web:localhost%3A8080")) == "http://localhost:8080/.well-known/did.json")
    }

    @Test func failuresAreTyped() async throws {
        let did = try DID("did:web:example.com")
        func resolve(_ response: Result<HTTPResponseData, HTTPTransportError>) async -> DIDResolutionError? {
            let resolver = NetworkDIDResolver(transport: FakeTransport { _ in response }, maximumDocumentSize: 1000)
            do {
                _ = try await resolver.resolve(did, forceRefresh: false)
                return nil
            } catch {
                return error
            }
        }
        #expect(await resolve(.success(HTTPResponseData(status: 302))) == .httpStatus(302))
        #expect(await resolve(.success(HTTPResponseData(status: 404))) == .notFound(did))
        #expect(await resolve(.success(HTTPResponseData(status: 200, body: [UInt8](repeating: 32, count: 1001)))) == .responseTooLarge)
        #expect(await resolve(.failure(.timedOut)) == .transport("request timed out"))
        #expect(
            await resolve(.success(HTTPResponseData(status: 200, body: Self.documentJSON(Self.plcDID))))
                == .invalidDocument(.idMismatch(expected: did.string, found: Self.plcDID))
        )
        #expect(await resolve(.success(HTTPResponseData(status: 200, body: Self.documentJSON(did.string)))) == nil)
    }

    @Test func cacheLifetimes() async throws {
        let did = try DID(Self.plcDID)
        let first = try DIDDocument(json: Self.documentJSON(Self.plcDID), expectedDID: did)
        let second = try DIDDocument(json: Self.documentJSON(Self.plcDID, key: "zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo"), expectedDID: did)
        let upstream = CountingResolver(.success(first))
        let clock = ManualClock(0)
        let cache = CachingDIDResolver(upstream: upstream, clock: clock)

        #expect(try await cache.resolve(did, forceRefresh: false) == first)
        #expect(try await cache.resolve(did, forceRefresh: false) == first)
        #expect(await upstream.calls == 1)

        // Stale after an hour: refreshed on use.
        await upstream.set(.success(second))
        clock.advance(by: 3599)
        #expect(try await cache.resolve(did, forceRefresh: false) == first)
        clock.advance(by: 2)
        #expect(try await cache.resolve(did, forceRefresh: false) == second)
        #expect(await upstream.calls == 2)

        // A failed refresh of a stale entry serves the cached copy until it expires.
        await upstream.set(.failure(.transport("down")))
        clock.advance(by: 3601)
        #expect(try await cache.resolve(did, forceRefresh: false) == second)
        clock.advance(by: 86400)
        await #expect(throws: DIDResolutionError.transport("down")) { try await cache.resolve(did, forceRefresh: false) }
    }

    @Test func forcedRefreshIsRateLimited() async throws {
        let did = try DID(Self.plcDID)
        let document = try DIDDocument(json: Self.documentJSON(Self.plcDID), expectedDID: did)
        let upstream = CountingResolver(.success(document))
        let clock = ManualClock(0)
        let cache = CachingDIDResolver(upstream: upstream, clock: clock)
        _ = try await cache.resolve(did, forceRefresh: false)
        _ = try await cache.resolve(did, forceRefresh: true)
        _ = try await cache.resolve(did, forceRefresh: true)
        _ = try await cache.resolve(did, forceRefresh: true)
        #expect(await upstream.calls == 2)
        clock.advance(by: 61)
        _ = try await cache.resolve(did, forceRefresh: true)
        #expect(await upstream.calls == 3)
        // A DID reported as gone is dropped rather than served from cache.
        await upstream.set(.failure(.notFound(did)))
        clock.advance(by: 61)
        await #expect(throws: DIDResolutionError.notFound(did)) { try await cache.resolve(did, forceRefresh: true) }
        await #expect(throws: DIDResolutionError.notFound(did)) { try await cache.resolve(did, forceRefresh: false) }
    }

    @Test func replayCacheExpiry() async {
        let clock = ManualClock(100)
        let cache = ReplayCache<String>(clock: clock, maximumEntries: 3)
        #expect(await cache.insert("a", expiresAt: 110))
        #expect(!(await cache.insert("a", expiresAt: 110)))
        clock.set(111)
        #expect(await cache.insert("a", expiresAt: 200))
        #expect(await cache.insert("b", expiresAt: 200))
        #expect(await cache.insert("c", expiresAt: 150))
        #expect(await cache.insert("d", expiresAt: 300))
        #expect(await cache.count <= 3)
        #expect(await cache.contains("d"))
    }
}
