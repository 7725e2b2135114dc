import Crypto

/// A validated secp256k1 public key (a point on the curve, not infinity).
package struct Secp256k1PublicKey: Sendable, Equatable {
    let x: UInt256
    let y: UInt256

    package enum ParseError: Error, Equatable, Sendable {
        case invalidLength(Int)
        case invalidPrefix(UInt8)
        case coordinateOutOfRange
        case notOnCurve
    }

    /// Parses a 33-byte compressed (`02`/`03` ‖ X) or 65-byte uncompressed (`04` ‖ X ‖ Y) SEC1 point.
    package init(sec1 bytes: [UInt8]) throws(ParseError) {
        let f = Secp256k1.field
        switch bytes.count {
        case 33:
            guard bytes[0] == 2 || bytes[0] == 3 else { throw .invalidPrefix(bytes[0]) }
            guard let x = UInt256(bigEndian: bytes[1...]), x < Secp256k1.p else { throw .coordinateOutOfRange }
            let xM = f.toMontgomery(x)
            let rhs = f.add(f.multiply(f.square(xM), xM), Secp256k1.seven)
            let root = f.power(rhs, Secp256k1.sqrtExponent)
            // Not every field element is a square: check the candidate root.
            guard f.square(root) == rhs else { throw .notOnCurve }
            var y = f.fromMontgomery(root)
            if y.isOdd != (bytes[0] == 3) {
                y = f.subtract(.zero, y)
            }
            self.x = x
            self.y = y
        case 65:
            guard bytes[0] == 4 else { throw .invalidPrefix(bytes[0]) }
            guard let x = UInt256(bigEndian: bytes[1..<33]), let y = UInt256(bigEndian: bytes[33...]),
                x < Secp256k1.p, y < Secp256k1.p
            else { throw .coordinateOutOfRange }
            let xM = f.toMontgomery(x)
            let yM = f.toMontgomery(y)
            guard f.square(yM) == f.add(f.multiply(f.square(xM), xM), Secp256k1.seven) else { throw .notOnCurve }
            self.x = x
            self.y = y
        default:
            throw .invalidLength(bytes.count)
        }
    }

    init(validatedX x: UInt256, y: UInt256) {
        self.x = x
        self.y = y
    }

    package var compressedRepresentation: [UInt8] {
        [y.isOdd ? 3 : 2] + x.bigEndianBytes
    }

    package var uncompressedRepresentation: [UInt8] {
        [4] + x.bigEndianBytes + y.bigEndianBytes
    }
}
