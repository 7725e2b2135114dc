import ATProto
import ArgumentParser
import Foundation
import GroundmistSync

/// `groundmist-sync token create`: an approved session and its sync token, for a native client or a
/// script that cannot run the ATProto login.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Mint sync tokens on the server itself.",
        subcommands: [Create.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an approved session for a group and print its sync token.",
            discussion: """
                Needs ATPROTO_DID and GROUNDMIST_SYNC_SECRET_KEY (and PUBLIC_URL) as the server uses them. \
                The token goes to standard output, the session id to standard error; revoke it with \
                `groundmist-sync sessions revoke ID`. Connect with ws(s)://HOST/?token=TOKEN.
                """
        )

        @Option(help: "The lexicon group (namespace prefix, NSID order), e.g. xyz.groundmist.library.")
        var group: String

        @Option(help: "Lifetime: a number with s, m, h or d, e.g. 30d or 12h. Defaults to GROUNDMIST_TOKEN_LIFETIME or 30d.")
        var expires: String?

        @Option(name: .customLong("data-dir"), help: "The server's data directory. Overrides DATA_DIR.")
        var dataDirectory: String?

        @Option(name: .customLong("client-id"), help: "A label for the client, shown by `sessions list`.")
        var clientId: String?

        func run() async throws {
            let prefix: NamespacePrefix
            do {
                prefix = try NamespacePrefix(group)
            } catch {
                throw ValidationError("--group must be a namespace prefix like xyz.groundmist.library: \(error.reason)")
            }
            var lifetime: Double?
            if let expires {
                guard let seconds = AuthenticationConfiguration.parseDuration(expires) else {
                    throw ValidationError("--expires must be a duration like 30d, 12h, 90m or 3600s")
                }
                lifetime = seconds
            }
            var overrides: [String: String] = [:]
            if let dataDirectory { overrides["DATA_DIR"] = dataDirectory }
            let configuration: ServerConfiguration
            do {
                configuration = try ServerConfiguration.load(overrides: overrides)
            } catch {
                throw CommandFailure(description: error.description)
            }
            guard let authentication = configuration.authentication else {
                throw CommandFailure(description: "ATPROTO_DID is not set: the server runs without authentication and needs no token")
            }
            if let refusal = DataDirectoryOwner.refusalForRoot(dataDirectory: configuration.dataDirectory) {
                throw CommandFailure(description: refusal)
            }
            do {
                let store = try SessionStore(dataDirectory: configuration.dataDirectory)
                let session = try await store.create(
                    group: prefix.string,
                    method: .cli,
                    status: .approved,
                    lifetime: lifetime ?? authentication.tokenLifetime,
                    clientId: clientId
                )
                let tokens = await SyncTokens(secret: authentication.secretKey, ownerDID: authentication.ownerDID.string)
                let token = try await tokens.mint(session: session)
                FileHandle.standardError.write(Data("session \(session.id) for \(session.group), expires \(session.expires)\n".utf8))
                print(token)
            } catch let error as SessionStoreError {
                throw CommandFailure(description: error.description)
            }
        }
    }
}
