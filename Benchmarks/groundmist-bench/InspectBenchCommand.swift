import ArgumentParser
import AutomergeCore
import Foundation

/// `groundmist-bench inspect FILE…` (formerly `groundmist-sync inspect --bench`) and
/// `groundmist-bench inspect --save FILE` (formerly `inspect --bench-save`): one JSON line of
/// figures per file.
struct InspectBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Time loading Automerge files (and, with --save, saving them) and report peak memory."
    )

    @Argument(help: "Automerge files: documents, changes, concatenations.")
    var files: [String]

    @Flag(help: "Load each file as a document, materialise its JSON and save it; run one file per process.")
    var save = false

    func run() throws {
        ServerAllocator.use()
        var failed = false
        for file in files {
            do {
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
                let figures = save ? try Benchmark.runSave(file: file, bytes: bytes) : try Benchmark.run(file: file, bytes: bytes)
                print(figures.compactLine())
            } catch {
                FileHandle.standardError.write(Data("groundmist-bench: \(file): \(error)\n".utf8))
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
