"""Where every value of a JSON text starts, found in one linear, iterative pass.

`scan(text)` walks the tokens of a JSON text with an explicit stack (so no nesting depth
can exhaust Python's recursion) and records, per value, the offset of its first character
and, for object members, of its key; line and column are computed on demand. It also
reports what Python's json module accepts or chokes on but a model file cannot hold:
duplicate keys, NaN and Infinity, numbers beyond a double, integers too long for Python
to read, and nesting deeper than `max_depth`. The values themselves come from json.loads;
this only locates them.
"""

from __future__ import annotations

import bisect
import math
import re
import sys
from dataclasses import dataclass
from json.decoder import scanstring

#: a value's place in a JSON document: object keys and array indices from the root
Path_ = tuple[str | int, ...]

#: Nesting levels of arrays and objects a model file may have. A model needs about 5;
#: pydantic's JSON parser stops at about 200 and json.loads near Python's recursion limit.
MAX_DEPTH = 100

# One token after optional whitespace: a string, a bare literal (number, true, false, null,
# NaN, Infinity, -Infinity) or a bracket; then the "," or ":" that follows it, if any (a
# string followed by ":" is a key). One match per value keeps the scan's Python loop short.
_TOKEN = re.compile(
    r'[ \t\n\r]*(?:("[^"\\]*(?:\\.[^"\\]*)*")|([^ \t\n\r{}\[\],:"]+)|([{}\[\]]))[ \t\n\r]*([,:]?)')
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_INTEGER = re.compile(r"-?[0-9]+")
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_SURROGATE = re.compile("[\ud800-\udfff]")


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset (only "\\n" ends a line, as in json)."""
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


class ScanError(Exception):
    """A text the scan cannot go on with: nested too deeply, or not JSON."""

    def __init__(self, offset: int, path: Path_, message: str):
        super().__init__(message)
        self.offset, self.path, self.message = offset, path, message


@dataclass(frozen=True)
class Finding:
    """Something the text holds that a model file cannot: at `offset`, the value at `path`."""

    offset: int
    path: Path_
    message: str


class _Container:
    """An array's or object's members: where each value (and key) starts, and the members
    that are containers themselves."""

    __slots__ = ("starts", "keys", "nested")

    def __init__(self, is_object: bool):
        self.starts: dict[str, int] | list[int] = {} if is_object else []
        self.keys: dict[str, int] | None = {} if is_object else None
        self.nested: dict[str | int, _Container] = {}


class Located:
    """The positions of a JSON text's values, by path (keys as str, array indices as int)."""

    def __init__(self, text: str, root_start: int, root: _Container | None, findings: list[Finding]):
        self._text = text
        self._root_start = root_start
        self._root = root
        self._newlines: list[int] | None = None
        self.findings = findings

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset (only "\\n" ends a line, as in json)."""
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", self._text)]
        line = bisect.bisect_left(self._newlines, offset)
        last = self._newlines[line - 1] if line else -1
        return line + 1, offset - last

    def _walk(self, tokens: Path_) -> tuple[int, int | None, bool]:
        """(value offset, key offset or None, whether the whole path exists) of the deepest
        value along tokens."""
        start, key_start = self._root_start, None
        node = self._root
        for token in tokens:
            if node is None:
                return start, key_start, False
            if node.keys is not None:
                if not isinstance(token, str) or token not in node.keys:
                    return start, key_start, False
                start, key_start = node.starts[token], node.keys[token]
            else:
                if isinstance(token, str) and token.isdecimal():
                    token = int(token)
                if not isinstance(token, int) or not 0 <= token < len(node.starts):
                    return start, key_start, False
                start, key_start = node.starts[token], None
            node = node.nested.get(token)
        return start, key_start, True

    def locate(self, tokens: Path_) -> tuple[int, int]:
        """Line and column of the value at tokens, or of its nearest ancestor that is in the text."""
        return self.position(self._walk(tuple(tokens))[0])

    def key_position(self, tokens: Path_) -> tuple[int, int]:
        """Line and column of the key of the member at tokens, else as locate."""
        start, key_start, found = self._walk(tuple(tokens))
        return self.position(key_start if found and key_start is not None else start)


def _string_finding(string: str) -> str | None:
    """Why a string literal json.loads reads cannot be text (an escaped lone surrogate), or None."""
    try:
        value = scanstring(string, 1)[0]
    except ValueError:
        return None  # not a string at all; json.loads reports it
    lone = _SURROGATE.search(value)
    if lone:
        return f"invalid JSON: \\u{ord(lone.group()):04x} is half of a surrogate pair, not a character"
    return None


def _number_finding(literal: str) -> str | None:
    """Why a bare literal json.loads reads is not a number a model file may hold, or None."""
    if literal in _NON_FINITE:
        return f"invalid JSON: {_NON_FINITE[literal]} is not a JSON number"
    limit = sys.get_int_max_str_digits()
    if limit and len(literal) > limit and _INTEGER.fullmatch(literal):
        digits = len(literal.lstrip("-"))
        if digits > limit:
            return f"invalid JSON: an integer of {digits} digits is longer than the {limit} digits Python reads"
    # a float literal overflows to infinity past about 1.8e308: 309 digits, or an exponent
    if ("e" in literal or "E" in literal or len(literal) > 308) and not _INTEGER.fullmatch(literal):
        try:
            value = float(literal)
        except ValueError:
            return None  # not a number at all; json.loads reports it
        if math.isinf(value):
            shown = literal if len(literal) <= 24 else literal[:20] + "..."
            return f"invalid JSON: {shown} is beyond the range of a 64-bit float"
    return None


def scan(text: str, max_depth: int = MAX_DEPTH) -> Located:
    """Locate every value of a JSON text. Raises ScanError at the first container nested
    deeper than max_depth, or where the text stops being JSON (json.loads says more there)."""
    findings: list[Finding] = []
    stack: list[_Container] = []
    path: list[str | int] = []  # tokens of the containers on the stack but the outermost
    root_start, root = -1, None
    top: _Container | None = None
    key = ""
    pos, end = 0, len(text)
    match = _TOKEN.match

    while True:
        m = match(text, pos)
        if m is None:
            pos = _WHITESPACE.match(text, pos).end()
            if pos >= end:
                break
            raise ScanError(pos, tuple(path), "invalid JSON")
        pos = m.end()
        string, literal, bracket, separator = m.groups()
        if bracket == "}" or bracket == "]":
            if top is None:
                raise ScanError(m.start(3), (), "invalid JSON")
            if len(stack) > 1:
                path.pop()
            stack.pop()
            top = stack[-1] if stack else None
            continue
        start = m.start(1) if string is not None else m.start(2) if literal is not None else m.start(3)
        if top is None:  # the document's own value
            if root_start >= 0:
                raise ScanError(start, (), "invalid JSON")
            root_start = start
            token = None
        elif top.keys is not None:  # an object: a key, or the value of the last key
            if separator == ":":
                if string is None:
                    raise ScanError(start, tuple(path), "invalid JSON")
                try:
                    key = scanstring(string, 1)[0] if "\\" in string else string[1:-1]
                except ValueError:  # a bad escape: not JSON
                    raise ScanError(start, tuple(path), "invalid JSON") from None
                if "\\u" in string:
                    why = _string_finding(string)
                    if why:
                        findings.append(Finding(start, tuple(path) + (key,), why))
                if key in top.keys:
                    findings.append(Finding(start, tuple(path) + (key,), f"duplicate key '{key}'"))
                    top.nested.pop(key, None)
                top.keys[key] = start
                continue
            token = key
            top.starts[key] = start
        else:
            token = len(top.starts)
            top.starts.append(start)
        if bracket is not None:  # "{" or "["
            if len(stack) >= max_depth:
                raise ScanError(start, tuple(path) + ((token,) if top is not None else ()),
                                f"invalid JSON: nested too deeply (more than {max_depth} levels of arrays and "
                                "objects)")
            container = _Container(bracket == "{")
            if top is None:
                root = container
            else:
                top.nested[token] = container
                path.append(token)
            stack.append(container)
            top = container
            if separator:  # "{," or "[:" is not JSON
                raise ScanError(m.start(4), tuple(path), "invalid JSON")
            continue
        if string is not None and "\\u" in string:
            why = _string_finding(string)
            if why:
                findings.append(Finding(start, tuple(path) + ((token,) if top is not None else ()), why))
            continue
        # a cheap filter first: only long literals, exponents, NaN and Infinity can be findings
        if literal is not None and (len(literal) > 24 or literal[-1] in "yN" or "e" in literal or "E" in literal) \
                and literal not in ("true", "false"):
            why = _number_finding(literal)
            if why:
                findings.append(Finding(start, tuple(path) + ((token,) if top is not None else ()), why))
    return Located(text, max(root_start, 0), root, findings)
