import ATProto
import ArgumentParser
import Crypto
import Foundation

/// `groundmist-bench atproto [ITERATIONS]` (formerly `atproto-bench`): times signature verification
/// in the current build configuration; run a release build. Keys and signatures are made here:
/// P-256 with swift-crypto, secp256k1 from a fixed known vector.
struct ATProtoBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "atproto",
        abstract: "Time ATProto signature verification (secp256k1 in pure Swift, P-256 with swift-crypto)."
    )

    @Argument(help: "Verifications per key type.")
    var iterations = 2000

    /// Verifies `signature` `iterations` times and returns microseconds per verification.
    static func measure(_ label: String, key: PublicKey, message: [UInt8], signature: [UInt8], iterations: Int) -> Double {
        precondition(key.isValidSignature(signature, for: message, requireLowS: false), "\(label): benchmark signature does not verify")
        let start = DispatchTime.now().uptimeNanoseconds
        var accepted = 0
        for _ in 0..<iterations where key.isValidSignature(signature, for: message, requireLowS: false) {
            accepted += 1
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1000
        precondition(accepted == iterations)
        let perSignature = elapsed / Double(iterations)
        print("\(label): \(String(format: "%.1f", perSignature)) µs per verification (\(iterations) runs)")
        return perSignature
    }

    func run() throws {
        // The atproto interop low-S secp256k1 vector (message = CBOR of {"hello":"world"}).
        let k256Key = try PublicKey(didKey: "did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc")
        let k256Message = Array(Data(base64Encoded: "oWVoZWxsb2V3b3JsZA==") ?? Data())
        let k256Signature = Array(
            Data(base64Encoded: "5WpdIuEUUfVUYaozsi8G0B3cWO09cgZbIIwg1t2YKdUn/FEznOndsz/qgiYb89zwxYCbB71f7yQK5Lr7NasfoA==") ?? Data()
        )

        let p256Private = P256.Signing.PrivateKey()
        let p256Message = Array("benchmark message".utf8)
        let p256Signature = Array(try p256Private.signature(for: p256Message).rawRepresentation)

        _ = Self.measure("secp256k1 (pure Swift)", key: k256Key, message: k256Message, signature: k256Signature, iterations: iterations)
        _ = Self.measure(
            "P-256 (swift-crypto)",
            key: .p256(p256Private.publicKey),
            message: p256Message,
            signature: p256Signature,
            iterations: iterations
        )
    }
}
