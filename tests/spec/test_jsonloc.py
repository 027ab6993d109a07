"""snncc.spec.jsonloc against Python's json module: the value the scan places at a path is
the value json.loads finds there, read back from the text at the scanned offset; through
parse_spec, what json.loads and pydantic cannot take (deep nesting, long integers) is one
located line, and a document of megabytes validates in seconds."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snncc.spec import jsonloc
from snncc.spec.errors import SpecError
from snncc.spec.load import parse_spec

DECODER = json.JSONDecoder()


def line_col(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - before.rfind("\n")


def walk(value, path=()):
    """(path, value) of every value in a document, containers before their members."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, path + (i,))


def offset_of(text: str, located: jsonloc.Located, path) -> int:
    """The scanned offset, recovered from line and column."""
    line, col = located.locate(path)
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    return starts[line - 1] + col - 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(document=json_values, indent=st.sampled_from([None, 0, 1, 3, "\t"]), ascii_only=st.booleans())
def test_every_value_is_where_json_reads_it(document, indent, ascii_only):
    text = json.dumps(document, indent=indent, ensure_ascii=ascii_only)
    located = jsonloc.scan(text)
    assert located.findings == []
    for path, value in walk(document):
        offset = offset_of(text, located, path)
        assert DECODER.raw_decode(text, offset)[0] == value, (path, text)
        if path and isinstance(path[-1], str):
            key_line, key_col = located.key_position(path)
            starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
            key_offset = starts[key_line - 1] + key_col - 1
            assert DECODER.raw_decode(text, key_offset)[0] == path[-1]


def test_positions_by_hand():
    text = '{\n  "a": [1,\n        {"b": "x"}],\r\n\t"c\\/d": null}'
    located = jsonloc.scan(text)
    assert located.locate(()) == (1, 1)
    assert located.locate(("a",)) == (2, 8)
    assert located.key_position(("a",)) == (2, 3)
    assert located.locate(("a", 0)) == (2, 9)
    assert located.locate(("a", 1)) == (3, 9)
    assert located.locate(("a", 1, "b")) == (3, 15)
    assert located.key_position(("a", 1, "b")) == (3, 10)
    # "\r" is not a line end (as for json.JSONDecodeError); the key is unescaped
    assert located.locate(("c/d",)) == (4, 10)
    assert located.key_position(("c/d",)) == (4, 2)
    # a missing member: the nearest ancestor that is there
    assert located.locate(("a", 1, "zz", 3)) == (3, 9)
    assert located.locate(("a", 7)) == (2, 8)
    assert located.key_position(("nope",)) == (1, 1)


def test_a_key_with_a_slash_is_not_a_path():
    located = jsonloc.scan('{"a/b": 1, "a": {"b": 2}}')
    assert located.locate(("a/b",)) == (1, 9)
    assert located.locate(("a", "b")) == (1, 23)


def test_duplicate_keys_at_each_repeat():
    text = '{"x": 1,\n "y": {"z": 1, "z": 2},\n "x": 3, "x": 4}'
    findings = jsonloc.scan(text).findings
    assert [(f.path, line_col(text, f.offset), f.message) for f in findings] == [
        (("y", "z"), (2, 16), "duplicate key 'z'"),
        (("x",), (3, 2), "duplicate key 'x'"),
        (("x",), (3, 10), "duplicate key 'x'"),
    ]
    # the last value wins, as in json.loads
    assert jsonloc.scan(text).locate(("x",)) == (3, 15)


@pytest.mark.parametrize("literal,message", [
    ("NaN", "nan is not a JSON number"),
    ("Infinity", "inf is not a JSON number"),
    ("-Infinity", "-inf is not a JSON number"),
    ("1e999", "1e999 is beyond the range of a 64-bit float"),
    ("-" + "9" * 400 + ".0", "is beyond the range of a 64-bit float"),
    ("7" * 5000, "an integer of 5000 digits is longer than the 4300 digits Python reads"),
])
def test_numbers_a_model_cannot_hold(literal, message):
    text = '{"a": [true, ' + literal + "]}"
    findings = jsonloc.scan(text).findings
    assert len(findings) == 1
    assert findings[0].path == ("a", 1) and findings[0].offset == text.index(literal)
    assert message in findings[0].message


@pytest.mark.parametrize("literal", ["1e308", "-1.5E-400", "9" * 4300, "0.5", "true", "false", "null"])
def test_numbers_a_model_can_hold(literal):
    assert jsonloc.scan('[' + literal + ']').findings == []


def test_depth_limit_is_exact():
    ok = "[" * jsonloc.MAX_DEPTH + "]" * jsonloc.MAX_DEPTH
    jsonloc.scan(ok)
    deep = '{"a": [' + "[" * jsonloc.MAX_DEPTH + "]" * jsonloc.MAX_DEPTH + "]}"
    with pytest.raises(jsonloc.ScanError) as err:
        jsonloc.scan(deep)
    # the object is level 1, the outer array level 2: the bracket opening level MAX_DEPTH + 1
    assert err.value.offset == len('{"a": ') + jsonloc.MAX_DEPTH - 1
    assert err.value.path == ("a",) + (0,) * (jsonloc.MAX_DEPTH - 1)
    assert "nested too deeply" in err.value.message


def test_depth_far_beyond_recursion_limit():
    with pytest.raises(jsonloc.ScanError, match="nested too deeply"):
        jsonloc.scan("[" * 1_000_000)


@pytest.mark.parametrize("text", ['{"a" 1}', "[1,, 2]", "}", '{"a": 1}}', '[1] [2]', '{"a": "\\x"}',
                                  '{1: 2}', '["unterminated]', "[{,}]"])
def test_not_json_stops_the_scan_without_crashing(text):
    try:
        jsonloc.scan(text)
    except jsonloc.ScanError as exc:
        assert 0 <= exc.offset <= len(text)


# --------------------------------------------------------------------------- through parse_spec



def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as err:
        parse_spec(text, "m.json")
    return [str(p) for p in err.value.problems]


@pytest.mark.parametrize("depth", [jsonloc.MAX_DEPTH, 500, 999, 1000, 5000, 100_000])
def test_deep_nesting_is_one_located_line(depth):
    text = '{"name": "x",\n "description": ' + "[" * depth + "]" * depth + "}"
    bracket = text.index("[") + jsonloc.MAX_DEPTH - 1  # the object is level 1
    assert problems(text) == [
        f"m.json:2:{bracket - text.index(chr(10))}: /description{'/0' * (jsonloc.MAX_DEPTH - 1)}: invalid JSON: "
        f"nested too deeply (more than {jsonloc.MAX_DEPTH} levels of arrays and objects)"]


def test_nesting_within_the_limit_reaches_the_schema():
    depth = jsonloc.MAX_DEPTH - 1
    text = '{"name": ' + "[" * depth + "]" * depth + "}"
    assert "m.json:1:10: /name: Input should be a valid string" in problems(text)


def test_long_integer_is_located():
    text = '{\n  "timesteps": ' + "7" * 5000 + ',\n  "name": ' + "8" * 4301 + "}"
    assert problems(text) == [
        "m.json:2:16: /timesteps: invalid JSON: an integer of 5000 digits is longer than the 4300 digits Python reads",
        "m.json:3:11: /name: invalid JSON: an integer of 4301 digits is longer than the 4300 digits Python reads",
    ]


def test_integer_at_the_limit_reaches_the_schema():
    text = '{"timesteps": ' + "7" * 4300 + "}"
    assert any(p.startswith("m.json:1:15: /timesteps: Input should be less than or equal to")
               for p in problems(text))


# --------------------------------------------------------------------------- time linear in the size

ROOT = Path(__file__).resolve().parents[2]
#: a model file of megabytes (inlined parameters, say) must validate in seconds: the scan is one
#: linear pass, under a second for 4 MiB, and the bound leaves room for a loaded machine
LARGE_MEGABYTES = 4
LARGE_SECONDS = 10.0


def test_megabytes_validate_in_seconds_with_located_problems():
    doc = json.loads((ROOT / "examples" / "digits.json").read_text())
    doc["training"]["junk"] = [0.5, [1, {"k": None}]] * (LARGE_MEGABYTES * 2**20 // 52)
    doc["timesteps"] = "late"  # after the big list in the text
    text = json.dumps(doc, indent=1)
    assert len(text) > LARGE_MEGABYTES * 2**20
    start = time.process_time()
    with pytest.raises(SpecError) as err:
        parse_spec(text, "m.json")
    seconds = time.process_time() - start
    assert seconds < LARGE_SECONDS, f"{len(text) / 2**20:.1f} MB took {seconds:.1f} s of CPU time"
    junk_key = line_col(text, text.index('"junk"'))
    timesteps = line_col(text, text.index('"late"'))
    assert [str(p) for p in err.value.problems] == sorted([
        f"m.json:{junk_key[0]}:{junk_key[1]}: /training/junk: unknown field 'junk'",
        f"m.json:{timesteps[0]}:{timesteps[1]}: /timesteps: Input should be a valid integer",
    ], key=lambda s: tuple(int(x) for x in s.split(":")[1:3]))


def test_a_long_string_is_one_value():
    doc = json.loads((ROOT / "examples" / "digits.json").read_text())
    doc["description"] = "x\\\"y " * 2**20
    text = json.dumps(doc)
    start = time.process_time()
    assert parse_spec(text).description == doc["description"]
    assert time.process_time() - start < LARGE_SECONDS


def test_a_key_or_path_with_a_line_break_stays_one_line(tmp_path):
    text = '{"name": "x",\n "a\\nb": 1, "a\\nb": 2}'
    assert problems(text) == ["m.json:2:13: /a\\nb: duplicate key 'a\\nb'"]
    doc = json.loads((ROOT / "examples" / "digits.json").read_text())
    doc["data"] = {"kind": "npz", "path": "x\n\u2028y.npz"}
    with pytest.raises(SpecError) as err:
        parse_spec(json.dumps(doc), "m.json", tmp_path)
    lines = str(err.value).split("\n")
    assert len(lines) == len(err.value.problems) == 1
    assert lines[0].endswith(f"/data/path: no such file: {tmp_path}/x\\n\\u2028y.npz")


@pytest.mark.parametrize("escaped,found", [("\\ud800", "\\ud800"), ("x\\udfffy", "\\udfff"), ("\\ude00\\ud83d", "\\ude00"),
                                           ("\\ud83d\\ude00", None), ("\\u00e9\\n", None)])
def test_escaped_lone_surrogates(escaped, found):
    text = '{"a": [1, "' + escaped + '"], "' + escaped + '": 2}'
    findings = jsonloc.scan(text).findings
    if found is None:
        assert findings == []
        return
    key = json.loads(text)  # json.loads accepts them; pydantic's parser does not
    (name,) = [k for k in key if k != "a"]
    assert [(f.path, f.offset) for f in findings] == [(("a", 1), text.index('"' + escaped)),
                                                       ((name,), text.rindex('"' + escaped))]
    assert all(f"{found} is half of a surrogate pair" in f.message for f in findings)
