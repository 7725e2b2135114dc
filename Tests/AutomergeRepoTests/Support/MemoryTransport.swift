import AutomergeCore
import Foundation

@testable import AutomergeRepo

/// A connection whose frames a test reads back.
actor MemoryConnection: RepoConnection {
    private var frames: [[UInt8]] = []
    private(set) var isClosed = false

    func send(_ bytes: [UInt8]) { if !isClosed { frames.append(bytes) } }
    func close() { isClosed = true }

    func popFrame() -> [UInt8]? { frames.isEmpty ? nil : frames.removeFirst() }
}
