@testable import AutomergeCore

/// Two in-memory sync peers exchanging messages until neither has anything to say.
struct SyncHarness {
    var a: ChangeGraph
    var b: ChangeGraph
    var stateA = SyncState()
    var stateB = SyncState()
    /// Simulates a peer older than JS 2.1.8: it sends no trailer and never sees ours.
    var aIsV1Only = false
    var bIsV1Only = false
    private(set) var messages: [(fromA: Bool, message: SyncMessage)] = []

    init(a: ChangeGraph, b: ChangeGraph) {
        self.a = a
        self.b = b
    }

    /// Runs A→B, B→A rounds until both are quiet; returns the number of rounds, or nil if
    /// `maximumRounds` was not enough.
    mutating func run(maximumRounds: Int = 40) throws -> Int? {
        for round in 1...maximumRounds {
            let fromA = try step(fromA: true)
            let fromB = try step(fromA: false)
            if !fromA && !fromB { return round }
        }
        return nil
    }

    private mutating func step(fromA: Bool) throws -> Bool {
        var message: SyncMessage?
        if fromA { message = a.generateSyncMessage(&stateA) } else { message = b.generateSyncMessage(&stateB) }
        guard var sent = message else { return false }
        let senderIsOld = fromA ? aIsV1Only : bIsV1Only
        let receiverIsOld = fromA ? bIsV1Only : aIsV1Only
        if senderIsOld || receiverIsOld { sent.trailer = nil }
        // Every message crosses the wire as bytes.
        let received = try SyncMessage.decode(sent.encode())
        messages.append((fromA, received))
        if fromA { try b.receiveSyncMessage(&stateB, received) } else { try a.receiveSyncMessage(&stateA, received) }
        return true
    }
}
