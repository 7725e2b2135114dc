/// When a document's stored chunks are due to be rewritten as one snapshot.
///
/// Spec vs ours: the reference (`StorageSubsystem.#shouldCompact`, docs/storage.md §4) compacts when
/// the snapshot is under 1 KiB or the incrementals add up to at least the snapshot. For a small
/// document that means a compaction (read every file, rebuild, write, delete) after every save: most
/// of a busy server's file-system work. The server's `batched` rule keeps the reference's second
/// clause and drops the first: it also waits until the incrementals are worth a compaction (at least
/// `minimumFiles` files or `minimumBytes` bytes). Only the timing differs; the files are the same
/// kinds in the same layout, and the reference loads a snapshot plus any number of incrementals, so
/// a directory written either way reads in both.
package struct CompactionPolicy: Sendable, Equatable {
    /// Whether a snapshot under 1 KiB is compacted after every save (the reference's first clause).
    package var compactsSmallSnapshots: Bool
    /// Below the snapshot's size, incrementals never trigger a compaction; at or above it, they do
    /// once there are this many files…
    package var minimumFiles: Int
    /// …or this many bytes of them.
    package var minimumBytes: Int

    /// The reference's rule, exactly.
    package static let reference = CompactionPolicy(compactsSmallSnapshots: true, minimumFiles: 1, minimumBytes: 0)

    /// The server's rule: incrementals at least as large as the snapshot, and at least 32 files or
    /// 64 KiB. A document with a snapshot of 64 KiB or more is compacted exactly when the reference
    /// would compact it.
    package static let batched = CompactionPolicy(compactsSmallSnapshots: false, minimumFiles: 32, minimumBytes: 64 << 10)

    package init(compactsSmallSnapshots: Bool, minimumFiles: Int, minimumBytes: Int) {
        self.compactsSmallSnapshots = compactsSmallSnapshots
        self.minimumFiles = minimumFiles
        self.minimumBytes = minimumBytes
    }

    /// Whether the stored chunks (byte totals of the snapshots and of the incrementals, and how many
    /// incremental files) are due.
    package func isDue(snapshotBytes: Int, incrementalFiles: Int, incrementalBytes: Int) -> Bool {
        if compactsSmallSnapshots && snapshotBytes < DocumentStore.smallSnapshotBytes { return true }
        guard incrementalFiles > 0, incrementalBytes >= snapshotBytes else { return false }
        return incrementalFiles >= minimumFiles || incrementalBytes >= minimumBytes
    }
}
