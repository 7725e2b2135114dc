"""Loads documents written by Groundmist Sync with an independent decoder and compares content.

The decoder is the read-only Python binding `automerge==0.1.2` (an old Rust automerge). For every
`NAME.automerge` in the directory given on the command line:

- when `NAME.reference.automerge` exists (the same document as written by someone else: the
  JavaScript reference's own save, or the change chunks our document was made from), the decoder
  must read both to the same content. 0.1.2 resolves some concurrent list insertions and
  conflicts differently from current Automerge (it disagrees with JS 3.x about the reference's own
  `monday-meeting-notes`), so its view of the reference is the fair yardstick. If it cannot read
  the reference either (0.1.2 predates marks and some metadata), the document is unsupported.
- otherwise its content must equal `NAME.json` (what our engine says the document holds).

Output, one line per document: `ok NAME`, `unsupported NAME: REASON` or `mismatch NAME: DETAIL`.
Exit status 0 when nothing mismatched, 1 otherwise, 2 on usage errors.
"""

import json
import os
import sys

from automerge import Doc


def load(path):
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        return json.loads(Doc(data).json()), None
    except BaseException as error:  # the binding panics (PanicException) on what it cannot read
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        return None, str(error).splitlines()[0][:200]


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def compare(ours, theirs, path="$"):
    """Returns None when equal, else a description of the first difference.

    0.1.2 renders text objects as arrays of one-character strings and knows nothing of the
    string/text distinction, so a string on our side matches such an array. It also renders NaN
    and the infinities as the integer 0 where the JSON view (like JS) has null, so a null on our
    side accepts exactly the integer 0 (a real null never comes back as 0 otherwise).
    """
    if isinstance(ours, str):
        if isinstance(theirs, list) and all(isinstance(c, str) for c in theirs):
            theirs = "".join(theirs)
        return None if ours == theirs else f"{path}: {ours!r} != {theirs!r}"[:300]
    if ours is None and type(theirs) is int and theirs == 0:
        return None
    if isinstance(ours, bool) or ours is None:
        return None if ours is theirs else f"{path}: {ours!r} != {theirs!r}"
    if is_number(ours):
        if is_number(theirs) and (ours == theirs or float(ours) == float(theirs)):
            return None
        return f"{path}: {ours!r} != {theirs!r}"
    if isinstance(ours, list):
        if not isinstance(theirs, list) or len(ours) != len(theirs):
            return f"{path}: list of {len(ours)} != {type(theirs).__name__} {str(theirs)[:80]}"
        for index, (a, b) in enumerate(zip(ours, theirs)):
            difference = compare(a, b, f"{path}[{index}]")
            if difference:
                return difference
        return None
    if isinstance(ours, dict):
        if not isinstance(theirs, dict) or sorted(ours) != sorted(theirs):
            return f"{path}: keys {sorted(ours)[:10]} != {sorted(theirs)[:10] if isinstance(theirs, dict) else theirs!r}"
        for key in ours:
            difference = compare(ours[key], theirs[key], f"{path}.{key}")
            if difference:
                return difference
        return None
    return f"{path}: unexpected value {ours!r}"


def main(argv):
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print("usage: reference_decoder.py DIRECTORY", file=sys.stderr)
        return 2
    directory = argv[1]
    failed = False
    names = sorted(
        name[: -len(".automerge")]
        for name in os.listdir(directory)
        if name.endswith(".automerge") and not name.endswith(".reference.automerge")
    )
    for name in names:
        actual, error = load(os.path.join(directory, name + ".automerge"))
        reference_path = os.path.join(directory, name + ".reference.automerge")
        if os.path.exists(reference_path):
            expected, reference_error = load(reference_path)
            if reference_error is not None:
                print(f"unsupported {name}: {reference_error}")
                continue
            if error is not None:
                print(f"mismatch {name}: the decoder refused our file: {error}")
                failed = True
            elif actual != expected:
                print(f"mismatch {name}: {compare(expected, actual) or 'different content'}")
                failed = True
            else:
                print(f"ok {name}")
            continue
        with open(os.path.join(directory, name + ".json"), encoding="utf-8") as handle:
            expected = json.load(handle)
        if error is not None:
            print(f"mismatch {name}: the decoder refused our file: {error}")
            failed = True
            continue
        difference = compare(expected, actual)
        if difference:
            print(f"mismatch {name}: {difference}")
            failed = True
        else:
            print(f"ok {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
