import ArgumentParser
import Foundation
import GroundmistSync

/// `groundmist-sync sessions …`: list, approve and revoke logins. Acts on the data directory's
/// session file, so a running server picks the change up within a second or two.
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List, approve and revoke the sessions (logins) of the server.",
        subcommands: [List.self, Approve.self, Revoke.self]
    )

    struct DataDirectoryOption: ParsableArguments {
        @Option(name: .customLong("data-dir"), help: "The server's data directory. Overrides DATA_DIR (default .data).")
        var dataDirectory: String?

        func store() throws -> SessionStore {
            var overrides: [String: String] = [:]
            if let dataDirectory { overrides["DATA_DIR"] = dataDirectory }
            let values: [String: String]
            do {
                values = try ServerConfiguration.loadValues(overrides: overrides)
            } catch {
                throw CommandFailure(description: error.description)
            }
            let directory = values["DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? ServerConfiguration.defaultDataDirectory
            if let refusal = DataDirectoryOwner.refusalForRoot(dataDirectory: directory) { throw CommandFailure(description: refusal) }
            do {
                return try SessionStore(dataDirectory: directory)
            } catch {
                throw CommandFailure(description: error.description)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Show every session: id, status, group, how it logged in, client id, first and last seen, address, key, user agent.",
            discussion: """
                Client id and user agent are what the client claimed: unverified. KEY is the start of the \
                app's DPoP key thumbprint: compare it, the address and the first-seen time with your own \
                device before approving.
                """
        )

        @OptionGroup var options: DataDirectoryOption

        @Flag(help: "Print a JSON array of session objects instead of a table.")
        var json = false

        func run() async throws {
            let store = try options.store()
            let sessions = await store.all()
            let text = json ? try SessionListing.json(sessions) : SessionListing.table(sessions)
            print(text)
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a pending session sync (logins from today's apps wait for this).",
            discussion: "A revoked session cannot be approved again: log in again from the app instead."
        )

        @OptionGroup var options: DataDirectoryOption

        @Argument(help: "The session id, as `sessions list` shows it.")
        var id: String

        func run() async throws {
            let store = try options.store()
            guard let session = await store.session(id) else { throw CommandFailure(description: SessionStoreError.notFound(id).description) }
            guard session.status != .revoked else {
                throw CommandFailure(description: "session \(id) was revoked; log in again from the app to get a new session")
            }
            guard session.status != .pending || session.expires > Date() else {
                throw CommandFailure(description: "session \(id) waited too long for approval; log in again from the app to get a new session")
            }
            do {
                _ = try await store.setStatus(id, .approved)
            } catch {
                throw CommandFailure(description: error.description)
            }
            print("approved \(id) (\(session.group))")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Refuse a session's tokens from now on and drop its live connections."
        )

        @OptionGroup var options: DataDirectoryOption

        @Argument(help: "The session id, as `sessions list` shows it.")
        var id: String

        func run() async throws {
            let store = try options.store()
            do {
                let session = try await store.setStatus(id, .revoked)
                print("revoked \(id) (\(session.group))")
            } catch {
                throw CommandFailure(description: error.description)
            }
        }
    }
}

/// Renders sessions for `sessions list`.
enum SessionListing {
    static func table(_ sessions: [Session]) -> String {
        guard !sessions.isEmpty else { return "no sessions" }
        let formatter = ISO8601DateFormatter()
        // Escaped again on output: a file written by an older version may hold raw control characters.
        // ADDRESS, KEY (the DPoP key's thumbprint, first 8 characters) and FIRST SEEN are what
        // tell the owner's device from a lookalike: a stranger can copy the user agent and
        // client id, not the key, and rarely the address and time.
        let rows = sessions.map { session in
            [
                session.id, session.status.rawValue, session.group, session.method.rawValue, session.clientId ?? "-",
                formatter.string(from: session.created), session.lastSeen.map { formatter.string(from: $0) } ?? "never",
                session.remoteAddress ?? "-", session.keyThumbprint.map { String($0.prefix(8)) } ?? "-", session.userAgent ?? "-",
            ].map { Session.sanitized($0) ?? "-" }
        }
        let header = ["ID", "STATUS", "GROUP", "METHOD", "CLIENT", "FIRST SEEN", "LAST SEEN", "ADDRESS", "KEY", "USER AGENT"]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func json(_ sessions: [Session]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(sessions), as: UTF8.self)
    }
}

/// A command failed for a reason the user can fix; printed without the usage text.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}
