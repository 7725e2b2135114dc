import ByteEncodings
import Crypto

/// bs58check: Base58 of `payload ‖ first 4 bytes of SHA-256(SHA-256(payload))`, as in bitcoinjs/bs58check.
package enum Base58Check {
    package static func checksum(_ payload: [UInt8]) -> [UInt8] {
        let once = SHA256.hash(data: payload)
        let twice = SHA256.hash(data: Array(once))
        return Array(twice.prefix(4))
    }

    package static func encode(_ payload: [UInt8]) -> String {
        Base58.encode(payload + checksum(payload))
    }

    /// Decodes and verifies the checksum, returning the payload.
    package static func decode(_ string: String, maxLength: Int = Base58.defaultMaxLength) throws(DocumentIdError) -> [UInt8] {
        let raw: [UInt8]
        do {
            raw = try Base58.decode(string, maxLength: maxLength)
        } catch {
            switch error {
            case .tooLong(let length, let limit): throw .tooLong(length: length, limit: limit)
            case .invalidCharacter(let position): throw .invalidCharacter(position: position)
            }
        }
        guard raw.count >= 4 else { throw .tooShortForChecksum(byteCount: raw.count) }
        let payload = Array(raw.dropLast(4))
        guard Array(raw.suffix(4)) == checksum(payload) else { throw .badChecksum }
        return payload
    }
}
