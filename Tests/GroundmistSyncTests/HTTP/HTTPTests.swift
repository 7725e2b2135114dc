import Foundation
import Testing

@testable import GroundmistSync

@Suite struct HTTPTests {
    @Test func rootSaysTheServerIsRunning() async throws {
        try await withLiveServer(endpoint: RecordingEndpoint()) { port in
            let response = try await httpGet(port: port, path: "/")
            #expect(response.status == 200)
            #expect(response.body == "Groundmist personal sync server is running")
            #expect(response.headers["content-type"]?.hasPrefix("text/plain") == true)
        }
    }

    @Test func healthzReturnsJSON() async throws {
        try await withLiveServer(endpoint: RecordingEndpoint()) { port in
            let response = try await httpGet(port: port, path: "/healthz")
            #expect(response.status == 200)
            #expect(response.headers["content-type"]?.hasPrefix("application/json") == true)
            let object = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: String]
            #expect(object == ["status": "ok"])
        }
    }

    @Test func otherPathsAreNotFoundOverPlainHTTP() async throws {
        try await withLiveServer(endpoint: RecordingEndpoint()) { port in
            let response = try await httpGet(port: port, path: "/nope")
            #expect(response.status == 404)
        }
    }
}
