import Crypto

/// Stateless rotating DPoP nonces: base64url(HMAC-SHA256(secret, counter)), counter = ⌊now / interval⌋.
///
/// Accepts the previous, current and next counters (about three minutes) and hands out the next.
package struct DPoPNonces: Sendable {
    private let key: SymmetricKey
    package let rotationInterval: Double
    private let clock: any AuthClock

    /// - Parameter secret: at least 32 random bytes; a fresh secret at startup costs clients one retry.
    package init(secret: [UInt8], rotationInterval: Double = 60, clock: any AuthClock = SystemClock()) {
        key = SymmetricKey(data: secret)
        self.rotationInterval = rotationInterval
        self.clock = clock
    }

    /// A nonce made from a fresh random secret.
    package init(rotationInterval: Double = 60, clock: any AuthClock = SystemClock()) {
        self.init(secret: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }, rotationInterval: rotationInterval, clock: clock)
    }

    package func nonce(counter: Int64) -> String {
        var bigEndian = counter.bigEndian
        let message = withUnsafeBytes(of: &bigEndian) { Array($0) }
        return Base64URL.encode(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }

    private var counter: Int64 { Int64((clock.now() / rotationInterval).rounded(.down)) }

    /// The value to send in `DPoP-Nonce` on every response to a DPoP request.
    package func next() -> String { nonce(counter: counter + 1) }

    package func isAccepted(_ value: String) -> Bool {
        let current = counter
        return (current - 1...current + 1).contains { nonce(counter: $0) == value }
    }
}
