"""What a codelet must be on an IPU, checked on the rendered C++ of the ListSlot, Backward,
WeightGrad and Loss classes of every example and on snncc_generic.cpp: no integer divide or
modulo per loop iteration (the IPU has no hardware divider: each is a software routine of tens
of cycles), no read of an Output field, and partial updates through InOut."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from snncc.codegen.render import render
from snncc.ir import spec_to_ir
from snncc.lower import classes, lower
from snncc.partition import make_plan
from snncc.partition.target import host_ir
from snncc.spec import load_spec
from snncc.vertices import decls

from codegen_helpers import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
FAMILIES = ("ListSlot", "Backward", "WeightGrad", "Loss")
GENERIC = ROOT / "templates/codelets/snncc_generic.cpp"


# --------------------------------------------------------------------------- a small C++ reader


def _strip_comments(code: str) -> str:
    return re.sub(r"//[^\n]*|/\*.*?\*/", " ", code, flags=re.S)


def _close(code: str, i: int) -> int:
    """The index after the bracket that closes code[i]."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = []
    for j in range(i, len(code)):
        if code[j] in pairs:
            stack.append(pairs[code[j]])
        elif stack and code[j] == stack[-1]:
            stack.pop()
            if not stack:
                return j + 1
    raise ValueError(f"unbalanced {code[i]} at {i}")


def _open(code: str, j: int) -> int:
    """The index of the bracket that opens the one at code[j]."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack = []
    for i in range(j, -1, -1):
        if code[i] in pairs:
            stack.append(pairs[code[i]])
        elif stack and code[i] == stack[-1]:
            stack.pop()
            if not stack:
                return i
    raise ValueError(f"unbalanced {code[j]} at {j}")


def _per_iteration(code: str) -> list[str]:
    """What every for or while loop evaluates per iteration: the condition and increment
    of its header and its body (a block or one statement); a for's init runs once."""
    out = []
    for m in re.finditer(r"\b(for|while)\s*\(", code):
        start = m.end() - 1
        end = _close(code, start)
        header = code[start + 1:end - 1]
        out.append(header.split(";", 1)[1] if m.group(1) == "for" else header)
        out.append(code[end:_statement_end(code, end)])
    return out


def _statement_end(code: str, k: int) -> int:
    """The index after the statement that starts at or after code[k]."""
    while code[k].isspace():
        k += 1
    if code[k] == "{":
        return _close(code, k)
    m = re.match(r"(for|while|if)\s*\(", code[k:])
    if m:  # a loop or if: its header, then its statement (and an else's)
        end = _statement_end(code, _close(code, k + m.end() - 1))
        rest = re.match(r"\s*else\b", code[end:])
        return _statement_end(code, end + rest.end()) if m.group(1) == "if" and rest else end
    depth = 0
    for j in range(k, len(code)):  # an expression statement: up to its ';' outside brackets
        depth += code[j] in "([{"
        depth -= code[j] in ")]}"
        if code[j] == ";" and depth == 0:
            return j + 1
    raise ValueError(f"no end of the statement at {k}")


def _float_names(code: str, types: tuple[str, ...]) -> set[str]:
    """Names declared with a floating type (locals, arrays, pointers and vector fields)."""
    names = set()
    t = "|".join(types)
    for m in re.finditer(rf"<\s*(?:Vector<\s*)?(?:{t})\b[^;]*?>\s*(\w+)\s*;", code):
        names.add(m.group(1))
    for m in re.finditer(rf"\b(?:{t})\b\s*\*?\s*(?:const\s+)?(?=\w)", code):
        stmt = code[m.end():code.index(";", m.end())]
        depth, part = 0, ""
        for ch in stmt + ",":  # the declarators, split at top-level commas
            if ch == "," and depth == 0:
                name = re.match(r"\s*\*?\s*(\w+)", part)
                if name:
                    names.add(name.group(1))
                part = ""
                continue
            depth += ch in "([{"
            depth -= ch in ")]}"
            part += ch
    return names


def _operand(code: str, i: int, step: int) -> str:
    """The operand of the operator at code[i]: to the right (step 1) or the left (step -1)."""
    if step > 0:
        j = i + 1
        while j < len(code) and (code[j].isspace() or code[j] == "="):
            j += 1
        if code[j] == "(":
            return code[j:_close(code, j)]
        m = re.match(r"[\w:.]+", code[j:])
        end = j + (m.end() if m else 0)
        while end < len(code) and code[end] in "([":
            end = _close(code, end)
        return code[j:end]
    j = i - 1
    while j >= 0 and code[j].isspace():
        j -= 1
    end = j + 1
    while code[j] in ")]":
        j = _open(code, j) - 1
    while j >= 0 and (code[j].isalnum() or code[j] in "_:."):
        j -= 1
    return code[j + 1:end]


def _is_float(operand: str, names: set[str], types: tuple[str, ...]) -> bool:
    value = re.sub(r"\[[^\[\]]*\]", "[]", operand)
    while value != (value := re.sub(r"\[[^\[\]]*\]", "[]", value)):
        pass  # an element's index does not make it an integer
    t = "|".join(types)
    return bool(re.search(rf"\d\.\d*f?|\b\d+f\b|\bstd::|\b(?:{t})\s*\(", value)
                or set(re.findall(r"[A-Za-z_]\w*", value)) & names)


def integer_divisions_in_loops(code: str, types: tuple[str, ...] = ("float", "double", "T_")) -> list[str]:
    """Every '/' or '%' that a loop evaluates per iteration on integer operands (a '/' with
    a floating operand is a float divide; '%' is integer in C++)."""
    code = _strip_comments(code)
    names = _float_names(code, types)
    out = []
    for text in _per_iteration(code):
        for m in re.finditer(r"[/%]", text):
            left, right = _operand(text, m.start(), -1), _operand(text, m.start(), 1)
            if m.group() == "%" or not (_is_float(left, names, types) or _is_float(right, names, types)):
                out.append(f"{left} {m.group()} {right}")
    return out


# --------------------------------------------------------------------------- the reader itself


def test_the_reader_finds_divisions_per_iteration_only():
    """The per-item and per-sample forms the codelets had, against their hoisted forms."""
    flagged = {
        "for (unsigned item = begin; item < end; ++item) { const unsigned b = item / G, k = item % G; x[b] = k; }":
            ["item / G", "item % G"],
        "for (unsigned b = 0; b < B; ++b) { const unsigned e = b * slots + (step - delay) % slots; x[e] = 0; }":
            ["(step - delay) % slots"],
        "for (unsigned k = 0; k < n / 2; ++k) x[k] = 0;": ["n / 2"],
        "for (unsigned b = 0; b < B; ++b) for (unsigned k = b / 2; k < n; ++k) x[k] = 0;": ["b / 2"],
        "while (i < n) { i += w[i] / 4u; }": ["w[i] / 4u"],
        "for (unsigned i = 0; i < n; ++i) for (unsigned b = 0; b < B; ++b) { x[b] = 0; } y = n / 2;": [],
        "for (unsigned i = 0; i < n; ++i) if (i) x = 1; else x = i / 2; y = n / 2;": ["i / 2"],
    }
    for code, want in flagged.items():
        assert integer_divisions_in_loops(code) == want, code
    clean = [
        "const unsigned slot = step % slots; for (unsigned b = 0; b < B; ++b) x[b * slots + slot] = 0;",
        "for (unsigned item = begin, b = begin / G, k = begin % G; item < end; ++item) x[b] = k;",
        "const float real = 3.0f; for (unsigned i = 0; i < n; ++i) { const float d = a[i]; y[i] = 2.0f * d / real; }",
        "T_ *g = &dI[0]; for (unsigned i = 0; i < n; ++i) y[i] = g[i] / d;",
        "for (unsigned i = 0; i < n; ++i) y[i] = std::sqrt(v[i]) / c; // a / b % c in a comment",
        "for (unsigned i = 0; i < n; ++i) y[i] = float(w[i]) / float(n);",
    ]
    for code in clean:
        assert integer_divisions_in_loops(code) == [], code
    # a divide of vector elements is integer when the vector is, float when it is float
    assert integer_divisions_in_loops("Input<Vector<unsigned, ONE_PTR>> c; void f() { for (;;) x = c[0] / 2u; }")
    assert not integer_divisions_in_loops("Input<Vector<T_, ONE_PTR, 8>> c; void f() { for (;;) x = c[0] / 2u; }")


# --------------------------------------------------------------------------- the rendered codelets


def _sections(path: Path, layout: str) -> dict[str, str]:
    """The rendered C++ of each class of the examined families in codelets/model.cpp, by class."""
    ir = spec_to_ir(load_spec(path))
    if layout == "cpu":
        ir = host_ir(ir, 2)
    plan = make_plan(ir)
    prog = lower(ir, plan)
    model_cpp = render(prog, plan)["codelets/model.cpp"].decode()
    body = model_cpp[:model_cpp.rindex("} // namespace snncc_model")]
    parts = re.split(r"^// ---- ", body, flags=re.M)[1:]
    family = {c.cls: c.family for c in classes.codelets(prog)}
    out = {}
    for part in parts:
        cls = re.search(r"class (\w+) : public", part).group(1)
        if family.get(cls, "Loss" if cls == "Loss" else None) in FAMILIES:
            out[cls] = "// ---- " + part
    return out


@pytest.fixture(scope="module")
def rendered():
    return {(p.stem, layout): _sections(p, layout) for p in EXAMPLES for layout in ("ipu", "cpu")}


def test_no_integer_division_in_the_loops_of_the_rendered_codelets(rendered):
    seen = set()
    for (example, layout), sections in rendered.items():
        for cls, code in sections.items():
            seen.add(re.match(r"[A-Za-z]+", cls).group())
            found = integer_divisions_in_loops(code)
            assert not found, f"{example} ({layout}) {cls}: per-iteration integer division {found}"
    assert seen == {"ListSlot", "Backward", "WeightGrad", "Loss"}  # every family was examined


def test_no_integer_division_in_the_loops_of_the_generic_codelets():
    code = GENERIC.read_text()
    assert re.search(r"class AdamUpdate\b", code) and re.search(r"class SgdUpdate\b", code)
    assert integer_divisions_in_loops(code, ("float", "double", "T")) == []


#: helpers of codelets/model.cpp that only store through their last pointer argument (`out`)
STORING_HELPERS = ("dotProducts", "listedDots")


def _stored_by_helper(code: str, k: int) -> bool:
    """Whether code[k:] (an Output's name after `&`) is an argument of a STORING_HELPERS call."""
    if code[:k].rstrip()[-1:] != "&":
        return False
    depth = 0
    for i in range(k - 1, -1, -1):
        if code[i] == ")":
            depth += 1
        elif code[i] == "(":
            if depth == 0:
                return re.search(r"(\w+)\s*$", code[:i]).group(1) in STORING_HELPERS
            depth -= 1
        elif code[i] in ";{}":
            return False
    return False


def output_reads(code: str) -> list[str]:
    """Every use of an Output field that is not a store `name[...] = ...` (a load, a compound
    update, the whole vector) nor `&name[...]` passed to a STORING_HELPERS call; [] when the
    class has no Output."""
    code = _strip_comments(code)
    out = []
    for name in re.findall(r"\bOutput<[^;]*>\s*(\w+)\s*;", code):
        for m in list(re.finditer(rf"\b{name}\b", code))[1:]:  # past the declaration
            if _stored_by_helper(code, m.start()):
                continue
            j = m.end()
            after = code[_close(code, j):].lstrip() if code[j] == "[" else ""
            if not (after.startswith("=") and not after.startswith("==")):
                out.append(code[m.start():m.start() + 40].split("\n")[0])
    return out


def test_the_reader_finds_reads_of_outputs():
    decl = "Output<Vector<unsigned, ONE_PTR>> ids; InOut<Vector<unsigned, ONE_PTR>> ring; "
    assert output_reads(decl + "void f() { ids[0] = 1; ring[1] += ids[0]; }") == ["ids[0]; }"]
    assert output_reads(decl + "void f() { ids[k] += 1; }") == ["ids[k] += 1; }"]
    assert output_reads(decl + "void f() { if (ids[k] == 2) x = 0; }") == ["ids[k] == 2) x = 0; }"]
    assert output_reads(decl + "void f() { ids[k] = 1; ring[k] += ring[k + 1]; }") == []
    assert output_reads(decl + "void f() { dotProducts(&ring[0], 3, &ids[2], 4); }") == []
    assert output_reads(decl + "void f() { dot(&ids[0], &ring[0], 3); }") == ["ids[0], &ring[0], 3); }"]
    assert output_reads(decl + "void f() { dotProducts(ids[0], 3, &ring[2], 4); }") == ["ids[0], 3, &ring[2], 4); }"]


def test_no_output_field_is_read(rendered):
    """Poplar: a vertex only writes its Output fields (what they held before is undefined), so
    every use of one is a store `name[...] = ...`, never a load nor a compound update."""
    outputs = 0
    for (example, layout), sections in rendered.items():
        for cls, code in sections.items():
            outputs += len(re.findall(r"\bOutput<", code))
            assert output_reads(code) == [], f"{example} ({layout}) {cls}: an Output is read"
    assert outputs  # the Loss's and WeightGrad's Outputs were there


def test_list_slot_ring_fields_are_in_out():
    """ListSlot writes one slot of the ring per execution (and nothing before timestep lag in
    the reverse pass) while the other slots, written at earlier timesteps, are still read. An
    Output field tells Poplar the vertex overwrites the whole connected region: a compute set
    that connects the whole ring to Outputs ends the live range of what it held, and Poplar
    may reuse or not preserve that memory (Poplar User Guide, vertex field directions;
    PopLibs' partial updates, MultiUpdate and DynamicUpdateSlice, use InOut). So the ring
    fields must be InOut, in the declaration and in the rendered class."""
    for lagged in (False, True):
        io = {f.name: f.io for f in decls.list_slot_vertex(lagged).fields}
        assert io["ringIds"] == io["ringCounts"] == "InOut"
        assert io["ids"] == io["counts"] == "Input"
    code = _sections(ROOT / "examples/digits.json", "ipu")
    lists = [c for cls, c in code.items() if cls.startswith("ListSlot")]
    assert len(lists) == 2  # forward and lagged
    for c in lists:
        assert re.search(r"InOut<Vector<unsigned, ONE_PTR>> ringIds;", c)
        assert re.search(r"InOut<Vector<unsigned, ONE_PTR>> ringCounts;", c)
