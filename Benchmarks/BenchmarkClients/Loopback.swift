package import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP socket connected to 127.0.0.1:`port`, or nil when nothing accepts there. The caller closes it.
package func connectLoopback(port: Int) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        return nil
    }
    return fd
}

/// Why a child server never accepted connections.
package struct ListenerNotReady: Error, CustomStringConvertible {
    package let description: String
}

/// Waits until something accepts TCP connections on the loopback port (the child server is up).
package func waitForListener(port: Int, process: Process) async throws {
    for _ in 0..<500 {
        guard process.isRunning else { throw ListenerNotReady(description: "the server did not start (port \(port) busy?)") }
        if let fd = connectLoopback(port: port) {
            close(fd)
            return
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw ListenerNotReady(description: "the server did not start listening on port \(port)")
}
