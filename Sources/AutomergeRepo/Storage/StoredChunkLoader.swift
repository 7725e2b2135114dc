package import AutomergeCore

/// How the stored chunk files of a document become one change graph (docs/storage.md §4): all of them
/// as one concatenation, and when that does not load (a file truncated by a crash of the JS server,
/// which writes in place), each file on its own, leaving out those that do not load.
package enum StoredChunkLoader {
    package struct Outcome {
        package var graph: ChangeGraph
        /// Indices of the files in `graph`, in order.
        package var loaded: [Int]
        /// Indices of the files left out, with why the last of them failed.
        package var skipped: [Int]
        package var lastError: AutomergeError?
    }

    /// - Parameters:
    ///   - files: the files' bytes, snapshots first.
    ///   - makeGraph: an empty graph, configured as the caller needs it.
    package static func load(
        _ files: [[UInt8]],
        validation: ChangeValidation,
        makeGraph: () -> ChangeGraph
    ) -> Outcome {
        var whole = makeGraph()
        do throws(AutomergeError) {
            try whole.load(files.flatMap { $0 }, validation: validation)
            return Outcome(graph: whole, loaded: Array(files.indices), skipped: [], lastError: nil)
        } catch {
            var outcome = Outcome(graph: makeGraph(), loaded: [], skipped: [], lastError: nil)
            for (index, file) in files.enumerated() {
                do throws(AutomergeError) {
                    try outcome.graph.load(file, validation: validation)
                    outcome.loaded.append(index)
                } catch {
                    outcome.skipped.append(index)
                    outcome.lastError = error
                }
            }
            return outcome
        }
    }
}
