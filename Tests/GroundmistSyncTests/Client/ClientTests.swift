import AutomergeRepo
import TestSupport
import Testing

@testable import GroundmistSync

@Suite struct ClientTests {
    @Test func clientSyncsThroughTheServer() async throws {
        let serverEndpoint = RecordingEndpoint { frame in [[0xAA] + frame, [0xBB]] }
        // The client greets on connect and closes once it has both answers.
        let clientEndpoint = RecordingEndpoint(greeting: [[1, 2, 3]], closeAfterReply: false)
        try await withLiveServer(endpoint: serverEndpoint) { port in
            let client = RepoWebSocketClient(url: "ws://127.0.0.1:\(port)", endpoint: clientEndpoint, logger: quietLogger)
            try await withThrowingTaskGroup(of: RepoWebSocketClose?.self) { group in
                group.addTask { try await client.run() }
                try await eventually("client receives both answers") { await clientEndpoint.allFrames.count == 2 }
                #expect(await clientEndpoint.allFrames == [[0xAA, 1, 2, 3], [0xBB]])
                await clientEndpoint.closeAll()
                let close = try await group.next()
                #expect(close??.code == 1000)
            }
            try await eventually("server sees the disconnect") { await serverEndpoint.disconnectedIDs.count == 1 }
            #expect(await serverEndpoint.allFrames == [[1, 2, 3]])
            #expect(await clientEndpoint.disconnectedIDs.count == 1)
        }
    }

    @Test func clientReportsAServerSideClose() async throws {
        let serverEndpoint = RecordingEndpoint(closeAfterReply: true) { _ in [[0x01]] }
        let clientEndpoint = RecordingEndpoint(greeting: [[9]])
        try await withLiveServer(endpoint: serverEndpoint) { port in
            let client = RepoWebSocketClient(url: "ws://127.0.0.1:\(port)/", endpoint: clientEndpoint, logger: quietLogger)
            let close = try await client.run()
            #expect(close == RepoWebSocketClose(code: 1000, reason: nil))
            #expect(await clientEndpoint.allFrames == [[0x01]])
            #expect(await clientEndpoint.disconnectedIDs.count == 1)
        }
    }

    @Test func clientFailsCleanlyWhenNothingListens() async throws {
        // Bind and release a port so that nothing is listening on it.
        let port = try await withLiveServer(endpoint: RecordingEndpoint()) { port in port }
        let client = RepoWebSocketClient(url: "ws://127.0.0.1:\(port)", endpoint: RecordingEndpoint(), logger: quietLogger)
        await #expect(throws: (any Error).self) {
            try await withTimeout(.seconds(90), "connect to a closed port") { try await client.run() }
        }
    }
}
