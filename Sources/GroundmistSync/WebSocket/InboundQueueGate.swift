import NIOConcurrencyHelpers

/// Counts the bytes received from one peer that the repo has not processed yet, and makes the
/// socket reader wait while they exceed the bound. While the reader waits it does not read, so
/// NIO stops reading the socket and TCP pushes back on the peer.
///
/// One message is always admitted into an empty queue, so any message up to the maximum message
/// size gets through.
final class InboundQueueGate: Sendable {
    private struct State {
        var queuedBytes = 0
        var waiter: (bytes: Int, continuation: CheckedContinuation<Void, Never>)?
    }

    let limit: Int
    private let state = NIOLockedValueBox(State())

    init(limit: Int) { self.limit = limit }

    var queuedBytes: Int { state.withLockedValue { $0.queuedBytes } }

    private func fits(_ bytes: Int, in state: State) -> Bool {
        state.queuedBytes == 0 || state.queuedBytes + bytes <= limit
    }

    /// Waits until `bytes` more fit, then counts them. Only the socket reader calls this.
    func admit(_ bytes: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLockedValue { state -> Bool in
                if fits(bytes, in: state) {
                    state.queuedBytes += bytes
                    return true
                }
                state.waiter = (bytes, continuation)
                return false
            }
            if admitted { continuation.resume() }
        }
    }

    /// The repo finished with `bytes`; wakes the reader if what it waits for now fits.
    func release(_ bytes: Int) {
        let resume = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.queuedBytes -= bytes
            guard let waiter = state.waiter, fits(waiter.bytes, in: state) else { return nil }
            state.waiter = nil
            state.queuedBytes += waiter.bytes
            return waiter.continuation
        }
        resume?.resume()
    }
}
