package import ATProto
package import AutomergeRepo

/// Routes a group to its repo: opens the group's repository on first use and has joining peers
/// asked for the group's root document, if one is registered.
package struct GroupRouter: Sendable {
    package let repositories: GroupRepositories
    package let roots: RootDocumentRegistry

    package init(repositories: GroupRepositories, roots: RootDocumentRegistry) {
        self.repositories = repositories
        self.roots = roots
    }

    package func repo(for group: NamespacePrefix) async throws -> Repo {
        let repo = try await repositories.repo(for: group)
        if let root = await roots.root(of: group.string) { await repo.requestOnJoin(root.documentId) }
        return repo
    }
}
