import Foundation
import Logging
import TestSupport
import Testing

@testable import GroundmistSync

/// Item 8 of the self-hosting issue: a refused WebSocket is an ordinary event, logged once, at
/// notice at most, and never with its token.
@Suite struct RefusedUpgradeLoggingTests {
    @Test func refusalsLogOnceAtNoticeWithoutTheToken() async throws {
        let owner = try TestOwner()
        let capture = LogCapture()
        try await withTemporaryDirectory { directory in
            let authority = try await makeAuthority(owner: owner, dataDirectory: directory, logger: capture.logger)
            let server = try GroundmistServer(configuration: .testing(), authority: authority, logger: capture.logger)
            let refusals = 12
            // Records up to the end of the refusals; shutting the test server down logs its own lines.
            let records = try await withRunningServer(server, timeout: .seconds(60), "refused upgrades") { port in
                for index in 0..<refusals {
                    let token = "not-a-valid-token-\(index)-zz9plural"
                    let status = try await upgradeStatus(port: port, path: "/?token=\(token)")
                    #expect(status == 401)
                }
                // hummingbird-websocket reports the client's hang-up after the 401 asynchronously.
                try await Task.sleep(for: .milliseconds(500))
                return capture.all
            }
            let loud = records.filter { $0.level > .notice }
            #expect(loud.isEmpty, "logged above notice: \(loud.map { "\($0.level) \($0.message)" })")
            #expect(records.filter { $0.message == "WebSocket refused" }.count == refusals)
            #expect(!records.contains { $0.message.contains("zz9plural") })
            // The library line is still there for debugging, at debug level.
            let demoted = records.filter { $0.message == UpgradeLogDemotion.demotedMessage }
            #expect(demoted.allSatisfy { $0.level == .debug })
            print("refused upgrades: \(refusals), library hang-up lines demoted to debug: \(demoted.count)")
        }
    }

    @Test func theDemotionTouchesOnlyThatLine() {
        let capture = LogCapture()
        var base = capture.logger
        base.logLevel = .info
        let logger = UpgradeLogDemotion.wrap(base)
        logger.error("Error handling upgrade result")
        logger.error("something else failed")
        logger.notice("listening")
        let records = capture.all
        // Demoted below the base's level (info): dropped.
        #expect(records.map(\.message) == ["something else failed", "listening"])
        #expect(records.first?.level == .error)
    }
}
