import Testing

@testable import AutomergeCore

/// Changes whose ops name things the op set does not have end in `.invalidOp`, leave the op
/// set unchanged, and never trap.
@Suite struct EngineMalformedTests {
    static let author = ActorId(Array(repeating: 0x11, count: 16))

    static func base() throws -> OpSet {
        var opSet = OpSet()
        try opSet.apply(
            Change(
                actor: author,
                seq: 1,
                startOp: 1,
                ops: [
                    Op(object: .root, key: .map("list"), action: .makeList),
                    Op(object: .op(OpId(counter: 1, actor: 0)), key: .head, insert: true, action: .put, value: .int(1)),
                ]
            )
        )
        return opSet
    }

    static func second(_ ops: [Op], others: [ActorId] = []) -> Change {
        Change(actor: author, seq: 2, startOp: 3, otherActors: others, ops: ops)
    }

    static let list = ObjectId.op(OpId(counter: 1, actor: 0))

    static let malformed: [(String, Change)] = [
        ("unknown object", second([Op(object: .op(OpId(counter: 9, actor: 0)), key: .map("k"), action: .put, value: .int(1))])),
        ("unknown element", second([Op(object: list, key: .element(OpId(counter: 7, actor: 0)), insert: true, action: .put)])),
        ("element of another object", second([Op(object: .root, key: .element(OpId(counter: 2, actor: 0)), insert: true, action: .put)])),
        ("unknown pred", second([Op(object: .root, key: .map("list"), action: .delete, pred: [OpId(counter: 5, actor: 0)])])),
        (
            "pred of another object",
            second([Op(object: list, key: .element(OpId(counter: 2, actor: 0)), action: .delete, pred: [OpId(counter: 1, actor: 0)])])
        ),
        ("insert into a map", second([Op(object: .root, key: .map("k"), insert: true, action: .put)])),
        ("map key on a list", second([Op(object: list, key: .map("k"), action: .put)])),
        ("non-insert at head", second([Op(object: list, key: .head, action: .put)])),
        ("actor index out of range", second([Op(object: .op(OpId(counter: 1, actor: 3)), key: .map("k"), action: .put)])),
        (
            "increment by a string",
            second([Op(object: .root, key: .map("list"), action: .increment, value: .string("x"), pred: [OpId(counter: 1, actor: 0)])])
        ),
        ("op applied twice", Change(actor: author, seq: 2, startOp: 1, ops: [Op(object: .root, key: .map("k"), action: .put)])),
        (
            "a later op of the same change refers to a deleted element",
            second([
                Op(object: list, key: .element(OpId(counter: 2, actor: 0)), insert: true, action: .put, value: .int(2)),
                Op(object: list, key: .element(OpId(counter: 8, actor: 0)), insert: true, action: .put, value: .int(3)),
            ])
        ),
    ]

    @Test(arguments: malformed.indices)
    func malformedChangeIsRejectedAtomically(index: Int) throws {
        let (name, change) = Self.malformed[index]
        var opSet = try Self.base()
        let before = opSet.documentOps()
        do {
            try opSet.apply(change)
            Issue.record("\(name): accepted")
        } catch {
            guard case .invalidOp = error else {
                Issue.record("\(name): \(error)")
                return
            }
        }
        #expect(opSet.documentOps() == before, "\(name)")
        #expect(opSet.json().serialized() == "{\n  \"list\": [\n    1\n  ]\n}\n")
    }

    @Test func documentRejectsAMalformedChangeWithoutChangingState() throws {
        var document = AutomergeDocument(actor: ActorId([0x22]))
        try document.put(.root, key: "a", .int(1))
        document.commit()
        let heads = document.heads
        let bad = Change(
            deps: heads,
            actor: Self.author,
            seq: 1,
            startOp: 2,
            ops: [
                Op(object: .op(OpId(counter: 40, actor: 0)), key: .map("k"), action: .put)
            ]
        ).encodeChunk()
        #expect(throws: AutomergeError.self) { try document.apply([bad]) }
        #expect(document.heads == heads)
        #expect(document.json().serialized() == "{\n  \"a\": 1\n}\n")
    }

    @Test(
        .needsFixtures,
        arguments: [
            "missing_actor.automerge", "incorrect_max_op.automerge", "too_many_ops.automerge", "action-is-48.automerge", "64bit_obj_id_doc.automerge",
            "invalid_deflate_stream.automerge",
        ]
    )
    func rejectedUpstreamFilesThrow(name: String) throws {
        let bytes = try Fixtures.bytes("upstream/\(name)")
        #expect(throws: AutomergeError.self) { _ = try AutomergeDocument(loading: bytes, actor: Self.author) }
        var reader = ChunkReader(bytes)
        if case .document(let chunk)? = try? reader.next(), let document = try? DocumentChunk(chunk) {
            // The fast path must not trap either; it may or may not accept such a file.
            _ = try? OpSet(document: document)
        }
    }

    @Test func jsonNumbersUseJavaScriptForm() {
        let cases: [(Double, String)] = [
            (3, "3"), (0.1, "0.1"), (-2.5, "-2.5"), (1e21, "1e+21"), (1e20, "100000000000000000000"), (1e-7, "1e-7"),
            (0.000001, "0.000001"), (1.7976931348623157e308, "1.7976931348623157e+308"), (5e-324, "5e-324"), (-0.0, "0"),
            (Double.nan, "null"), (123456.789, "123456.789"), (1e16, "10000000000000000"),
        ]
        for (value, text) in cases { #expect(AutomergeJSON.javaScriptNumber(value) == text, "\(value)") }
        #expect(AutomergeJSON.string("a\"\\\n\u{1}é").serialized() == "\"a\\\"\\\\\\n\\u0001é\"\n")
    }
}

extension EngineMalformedTests {
    @Test func hugeStartOpIsRejected() throws {
        var opSet = OpSet()
        let change = Change(actor: Self.author, seq: 1, startOp: UInt64.max, ops: [Op(object: .root, key: .map("k"), action: .put)])
        #expect(throws: AutomergeError.self) { try opSet.apply(change) }
        #expect(opSet.opCount == 0)
    }
}
