import Testing

@testable import AutomergeCore

/// The one JSON writer, in its two layouts.
@Suite struct AutomergeJSONTests {
    let value = AutomergeJSON.object([
        ("zeta", .string("a\"b\\c\nd\u{1}é")),
        ("alpha", .array([.int(-3), .uint(UInt64.max), .bool(true), .null, .double(0.5)])),
        ("empty", .object([])),
        ("none", .array([])),
    ])

    @Test func fixtureLayoutSortsKeysAndIndents() {
        let expected = """
            {
              "alpha": [
                -3,
                18446744073709551615,
                true,
                null,
                0.5
              ],
              "empty": {},
              "none": [],
              "zeta": "a\\"b\\\\c\\nd\\u0001é"
            }

            """
        #expect(value.serialized() == expected)
    }

    @Test func compactLineKeepsMemberOrderOnOneLine() {
        let expected = #"{"zeta":"a\"b\\c\nd\u0001é","alpha":[-3,18446744073709551615,true,null,0.5],"empty":{},"none":[]}"#
        #expect(value.compactLine() == expected)
        #expect(AutomergeJSON.string("x").compactLine() == #""x""#)
        #expect(AutomergeJSON.array([.object([("b", .int(1)), ("a", .int(2))])]).compactLine() == #"[{"b":1,"a":2}]"#)
    }
}
