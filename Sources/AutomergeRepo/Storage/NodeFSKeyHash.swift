package import AutomergeCore
import ByteEncodings
import Crypto

/// The file names automerge-repo's `StorageSubsystem` gives chunks (`keyHash.ts`).
///
/// Readers treat names as opaque; matching the JS names matters because compaction must not delete the
/// snapshot it has just written, which JS recognises by name.
package enum NodeFSKeyHash {
    /// Snapshot name: lowercase hex SHA-256 of the heads' lowercase hex strings concatenated, no separators,
    /// in the order given (Automerge returns heads sorted).
    package static func snapshotName(hexHeads: [String]) -> String {
        sha256Hex(Array(hexHeads.joined().utf8))
    }

    /// Snapshot name for heads as hashes; sorted first, as `A.getHeads` returns them.
    package static func snapshotName(heads: [ChangeHash]) -> String {
        snapshotName(hexHeads: heads.sorted().map(\.hex))
    }

    /// Incremental name: lowercase hex SHA-256 of exactly the bytes written to the file.
    package static func incrementalName(for chunk: [UInt8]) -> String {
        sha256Hex(chunk)
    }

    /// Whether a name looks like one of ours (64 lowercase hex digits); lenient readers skip other files,
    /// e.g. `.DS_Store`, under `snapshot/` and `incremental/`.
    package static func isHashName(_ name: String) -> Bool {
        name.utf8.count == 64 && name.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    private static func sha256Hex(_ bytes: [UInt8]) -> String {
        Hex.encode(Array(SHA256.hash(data: bytes)))
    }
}
