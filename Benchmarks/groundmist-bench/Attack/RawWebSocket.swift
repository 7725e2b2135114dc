import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A deliberately minimal, blocking WebSocket client on a plain TCP socket: it can send any frame
/// (fragments, millions of them) and can simply stop reading, which a well-behaved client library
/// will not do. Loopback only.
final class RawWebSocket: @unchecked Sendable {
    enum Failure: Error, CustomStringConvertible {
        case connect(Int32)
        case handshake(String)
        case closed

        var description: String {
            switch self {
            case .connect(let code): "connect failed (errno \(code))"
            case .handshake(let text): "WebSocket upgrade refused: \(text)"
            case .closed: "connection closed"
            }
        }
    }

    let fd: Int32
    private var buffer: [UInt8] = []
    private let writeLock = NSLock()

    init(port: Int, receiveBuffer: Int? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.connect(errno) }
        if var size = receiveBuffer.map(Int32.init) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw Failure.connect(code)
        }
        let request =
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try sendAll(Array(request.utf8))
        var head: [UInt8] = []
        while !head.suffix(4).elementsEqual([13, 10, 13, 10]) {
            var byte: UInt8 = 0
            guard recv(fd, &byte, 1, 0) == 1 else { throw Failure.closed }
            head.append(byte)
        }
        let text = String(decoding: head, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 101") else { throw Failure.handshake(String(text.prefix(80))) }
    }

    deinit { Glibc.close(fd) }

    func close() { shutdown(fd, Int32(SHUT_RDWR)) }

    func sendAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                guard sent > 0 else { throw Failure.closed }
                offset += sent
            }
        }
    }

    /// One client frame (masked with a zero key, so the payload is sent as is).
    static func frame(opcode: UInt8, fin: Bool, payload: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        let length = payload.count
        if length < 126 {
            frame.append(0x80 | UInt8(length))
        } else if length <= 0xffff {
            frame += [0x80 | 126, UInt8(length >> 8), UInt8(length & 0xff)]
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((length >> shift) & 0xff)) }
        }
        frame += [0, 0, 0, 0]
        return frame + payload
    }

    func sendMessage(_ payload: [UInt8]) throws {
        writeLock.lock()
        defer { writeLock.unlock() }
        try sendAll(Self.frame(opcode: 0x2, fin: true, payload: payload))
    }

    func sendRaw(_ bytes: [UInt8]) throws {
        writeLock.lock()
        defer { writeLock.unlock() }
        try sendAll(bytes)
    }

    private func fill(_ count: Int) throws {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while buffer.count < count {
            let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            guard received > 0 else { throw Failure.closed }
            buffer += chunk[0..<received]
        }
    }

    private func take(_ count: Int) throws -> [UInt8] {
        try fill(count)
        let bytes = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return bytes
    }

    /// The next binary message; answers pings, skips pongs, throws on close.
    func readMessage() throws -> [UInt8] {
        var message: [UInt8] = []
        while true {
            let head = try take(2)
            let opcode = head[0] & 0x0f
            let fin = head[0] & 0x80 != 0
            var length = Int(head[1] & 0x7f)
            if length == 126 {
                let bytes = try take(2)
                length = Int(bytes[0]) << 8 | Int(bytes[1])
            } else if length == 127 {
                length = try take(8).reduce(0) { $0 << 8 | Int($1) }
            }
            let payload = try take(length)
            switch opcode {
            case 0x8: throw Failure.closed
            case 0x9: try sendRaw(Self.frame(opcode: 0xA, fin: true, payload: payload))
            case 0xA: continue
            default:
                message += payload
                if fin { return message }
            }
        }
    }
}
