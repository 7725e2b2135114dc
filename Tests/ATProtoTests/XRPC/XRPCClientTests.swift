import Foundation
import Testing

@testable import ATProto

@Suite("XRPC client")
struct XRPCClientTests {
    static func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func createSessionThenPutAndGet() async throws {
        let transport = FakeTransport { request in
            switch (request.method, request.url) {
            case ("POST", "https://pds.test/xrpc/com.atproto.server.createSession"):
                return .success(
                    HTTPResponseData(
                        status: 200,
                        body: Self.json(#"{"did":"did:plc:aaaaaaaaaaaaaaaaaaaaaaaa","handle":"alice.test","accessJwt":"A","refreshJwt":"R"}"#)
                    )
                )
            case ("POST", "https://pds.test/xrpc/com.atproto.repo.putRecord"):
                return .success(
                    HTTPResponseData(
                        status: 200,
                        body: Self.json(#"{"uri":"at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/xyz.test.thing/self","cid":"bafy"}"#)
                    )
                )
            case ("GET", let url) where url.hasPrefix("https://pds.test/xrpc/com.atproto.repo.getRecord?"):
                return .success(HTTPResponseData(status: 200, body: Self.json(#"{"uri":"at://x","cid":"bafy","value":{"n":1,"s":"t"}}"#)))
            default:
                return .success(HTTPResponseData(status: 501, body: Self.json(#"{"error":"MethodNotImplemented"}"#)))
            }
        }
        let client = XRPCClient(serviceURL: "https://pds.test/", transport: transport)
        let session = try await client.createSession(identifier: "alice.test", password: "app-password")
        #expect(session.did == "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")
        #expect(session.accessJwt == "A")

        let authorized = client.authorized(accessJwt: session.accessJwt)
        let did = try DID(session.did)
        let collection = try NSID("xyz.test.thing")
        let written = try await authorized.putRecord(repo: did, collection: collection, rkey: "self", record: .object(["n": .number(1)]))
        #expect(written.cid == "bafy")
        let record = try await authorized.getRecord(repo: did, collection: collection, rkey: "self")
        #expect(record.value == .object(["n": .number(1), "s": .string("t")]))

        let requests = await transport.requests
        #expect(requests.count == 3)
        #expect(!requests[0].headers.contains { $0.name == "Authorization" })
        #expect(requests[1].headers.contains(HTTPHeader("Authorization", "Bearer A")))
        let putBody = try #require(requests[1].body)
        let putObject = try #require(JSONValue.object(from: putBody))
        #expect(putObject["collection"] == .string("xyz.test.thing"))
        #expect(putObject["record"] == .object(["n": .number(1)]))
        #expect(String(decoding: putBody, as: UTF8.self).contains(#""n":1"#))
        #expect(
            requests[2].url.contains("repo=did%3Aplc%3Aaaaaaaaaaaaaaaaaaaaaaaaa") || requests[2].url.contains("repo=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa")
        )
        #expect(requests[2].url.contains("rkey=self"))
    }

    @Test func errorsAreTyped() async throws {
        let transport = FakeTransport { request in
            if request.url.contains("resolveHandle") {
                return .success(HTTPResponseData(status: 400, body: Self.json(#"{"error":"InvalidRequest","message":"Unable to resolve handle"}"#)))
            }
            if request.url.contains("createSession") {
                return .success(HTTPResponseData(status: 401, body: Self.json("not json")))
            }
            return .failure(.timedOut)
        }
        let client = XRPCClient(serviceURL: "https://pds.test", transport: transport)
        await #expect(throws: XRPCError.server(status: 400, error: "InvalidRequest", message: "Unable to resolve handle")) {
            try await client.resolveHandle(try Handle("nobody.test"))
        }
        await #expect(throws: XRPCError.server(status: 401, error: "HTTP401", message: nil)) {
            try await client.createSession(identifier: "a", password: "b")
        }
        await #expect(throws: XRPCError.transport(.timedOut)) {
            try await client.getRecord(repo: try DID("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"), collection: try NSID("a.b.c"), rkey: "x")
        }
        await #expect(throws: XRPCError.invalidRequest("record must be a JSON object")) {
            try await client.putRecord(
                repo: try DID("did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"),
                collection: try NSID("a.b.c"),
                rkey: "x",
                record: .string("x")
            )
        }
    }

    @Test func resolveHandleValidatesTheDID() async throws {
        let good = FakeTransport { _ in .success(HTTPResponseData(status: 200, body: Self.json(#"{"did":"did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"}"#))) }
        #expect(
            try await XRPCClient(serviceURL: "https://pds.test", transport: good).resolveHandle(try Handle("alice.test")).string
                == "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"
        )
        let bad = FakeTransport { _ in .success(HTTPResponseData(status: 200, body: Self.json(#"{"did":"nope"}"#))) }
        await #expect(throws: XRPCError.invalidResponse("resolveHandle returned an invalid DID")) {
            try await XRPCClient(serviceURL: "https://pds.test", transport: bad).resolveHandle(try Handle("alice.test"))
        }
    }
}
