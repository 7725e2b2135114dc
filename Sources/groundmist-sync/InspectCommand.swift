import ArgumentParser
import AutomergeCore

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Describe Automerge files as JSON.")

    @Argument(help: "Automerge files: documents, changes, concatenations, sync messages.")
    var files: [String] = []

    func run() throws {}
}
