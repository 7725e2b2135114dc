import ArgumentParser
import AutomergeCore
import Foundation

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe Automerge files as JSON, one object per line.",
        discussion: """
            Reads documents, change files, any concatenation of chunks, and sync messages. \
            A file that is not valid Automerge is reported on stderr and makes the exit code 1.
            """
    )

    @Argument(help: "Automerge files: documents, changes, concatenations, .amrgsync sync messages.")
    var files: [String]

    @Flag(help: "Also list every change's metadata.")
    var changes = false

    @Flag(help: "Print each file's materialised JSON view (the reference's toJS) instead of its description.")
    var json = false

    func run() throws {
        // As the server does: a large document's rebuild frees its big arrays to the system, not to
        // heaps that keep their pages (a third off `inspect`'s peak on essay.amrg).
        LargeAllocations.useSeparateMappings()
        let inspector = Inspector(includeChanges: changes)
        var failed = false
        for file in files {
            let bytes: [UInt8]
            do {
                bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            } catch {
                printError("\(file): cannot read the file")
                failed = true
                continue
            }
            do throws(AutomergeError) {
                if json {
                    print(try inspector.materialize(bytes: bytes), terminator: "")
                } else {
                    print(try inspector.describe(file: file, bytes: bytes).compactLine())
                }
            } catch {
                printError("\(file): \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("groundmist-sync: \(message)\n".utf8))
}
