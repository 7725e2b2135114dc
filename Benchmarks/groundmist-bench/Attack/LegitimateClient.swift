import AutomergeCore
import AutomergeRepo
import Foundation

/// A well-behaved peer measuring round trips while an attack runs: every 100 ms it asks for a
/// document the server does not have and times the answer (`doc-unavailable`), which crosses the
/// transport and the repo actor like any sync.
final class LegitimateClient: @unchecked Sendable {
    private let socket: RawWebSocket
    private let lock = NSLock()
    private var samples: [Double] = []
    private var failures = 0
    private var running = true
    private var thread: Thread?

    init(port: Int) throws {
        socket = try RawWebSocket(port: port)
        let join = JoinMessage(senderId: "legit", peerMetadata: PeerMetadata(storageId: nil, isEphemeral: true), supportedProtocolVersions: ["1"])
        try socket.sendMessage(RepoMessage.join(join).encoded())
        _ = try socket.readMessage()
    }

    func start() {
        let thread = Thread { [self] in
            let empty = ChangeGraph()
            var state = SyncState()
            let data = empty.generateSyncMessage(&state)?.encode() ?? []
            while isRunning {
                let documentId = DocumentId.random().string
                let request = DocumentSyncMessage(senderId: "legit", targetId: "server", documentId: documentId, data: data)
                let start = Date()
                do {
                    try socket.sendMessage(RepoMessage.request(request).encoded())
                    while true {
                        let reply = try RepoMessage(decoding: socket.readMessage())
                        if case .docUnavailable(let answer) = reply, answer.documentId == documentId { break }
                    }
                    record(Date().timeIntervalSince(start) * 1000)
                } catch {
                    lock.lock()
                    failures += 1
                    lock.unlock()
                    return
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        self.thread = thread
        thread.start()
    }

    private var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    private func record(_ milliseconds: Double) {
        lock.lock()
        samples.append(milliseconds)
        lock.unlock()
    }

    /// Stops and returns (median, max, count, failed).
    func stop() -> (median: Double, max: Double, count: Int, failed: Bool) {
        lock.lock()
        running = false
        let sorted = samples.sorted()
        let failed = failures > 0
        lock.unlock()
        socket.close()
        guard !sorted.isEmpty else { return (.infinity, .infinity, 0, true) }
        return (sorted[sorted.count / 2], sorted.last ?? 0, sorted.count, failed)
    }
}
