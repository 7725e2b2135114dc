import AutomergeCore

extension Inspector {
    /// `inspect --json`: the materialised JSON view of a document or changes file, as the
    /// reference's `toJS` shows it (the fixtures' `NAME.json` format, final newline included).
    func materialize(bytes: [UInt8]) throws(AutomergeError) -> String {
        // Local edits never happen here: any actor id will do.
        let document = try AutomergeDocument(loading: bytes, actor: ActorId([0]))
        return document.json().serialized()
    }
}
