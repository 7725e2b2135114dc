/// A FIFO lock for async code: a holder may await (storage, network) without another task
/// entering the same critical section, which actor reentrancy alone would allow.
actor AsyncMutex {
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func lock() async {
        if !locked {
            locked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func unlock() {
        if waiters.isEmpty {
            locked = false
        } else {
            waiters.removeFirst().resume()
        }
    }

    var isLocked: Bool { locked }
}
