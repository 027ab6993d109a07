"""Fuzzing the commands a user types: documents generated from the committed schema, random
mutations of every example (of its values and of its text), run in-process through
`snncc validate`, `inspect`, `plan` (report and JSON, both layouts) and `compile`.

Whatever the document, each command exits 0 or 1, within 10 s; on exit 1 every line it
printed is one of the project's own errors (`FILE:LINE:COL: /pointer: message` with a
position inside the text, or `snncc CMD: error: ...`); nothing escapes as an exception;
`plan --json` is strict JSON; `compile` writes only its output directory and leaves the
model file as it was. The CI profile is derandomized; the nightly profile runs longer
with a fresh seed (README, Development).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from documents import paths
from snncc.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "snncc-model.schema.json").read_text())
EXAMPLES = {p.stem: json.loads(p.read_text()) for p in sorted((ROOT / "examples").glob("*.json"))}
SECONDS = 10.0
LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<ptr>(/[^:]*)?): \S")


def _run(*argv: str) -> tuple[int, str, str, float]:
    out, err = io.StringIO(), io.StringIO()
    start = time.process_time()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse; the arguments here are always well-formed
            code = exc.code
    return code, out.getvalue(), err.getvalue(), time.process_time() - start


def _check_errors(command: str, model: Path, text: str, err: str) -> None:
    lines = text.split("\n")
    assert err.strip(), f"{command} exited 1 without saying why"
    for line in err.rstrip("\n").split("\n"):
        assert "Traceback" not in line, err
        located = LOCATED.match(line)
        if located and located["file"] == str(model):
            row, col = int(located["line"]), int(located["col"])
            if row:  # 0:0 is a problem of the file itself (unreadable, not text)
                assert 1 <= row <= len(lines) and 1 <= col <= len(lines[row - 1]) + 1, line
        else:
            assert line.startswith((f"snncc {command}: error: ", f"{model}:")), line


def check_commands(tmp: Path, text: str) -> None:
    """Every command on one model file: exit 0 or 1, one-line errors, nothing else touched."""
    model = tmp / "model.json"
    model.write_text(text, encoding="utf-8")
    before = model.read_bytes()
    out_dir = tmp / "build"
    runs = [
        ("validate", str(model)),
        ("inspect", str(model)),
        ("plan", str(model)),
        ("plan", str(model), "--json"),
        ("plan", str(model), "--layout", "cpu", "--threads", "2"),
        ("compile", str(model), "-o", str(out_dir)),
    ]
    valid = None
    for argv in runs:
        code, out, err, seconds = _run(*argv)
        assert code in (0, 1), (argv, code, err)
        assert seconds < SECONDS, f"{argv[0]} took {seconds:.1f} s of CPU time"
        if code == 1:
            _check_errors(argv[0], model, text, err)
        if argv[0] == "validate":
            valid = code == 0
            if not valid:
                break  # every later command reads the spec the same way
        if argv[0] == "plan" and "--json" in argv and code == 0:
            json.loads(out, parse_constant=lambda c: pytest.fail(f"plan --json wrote {c}"))
        if argv[0] == "compile" and code == 0:
            assert (out_dir / "manifest.json").is_file()
    assert model.read_bytes() == before, "a command changed the model file"
    assert sorted(p.name for p in tmp.iterdir()) in (["model.json"], ["build", "model.json"]), \
        sorted(p.name for p in tmp.iterdir())


_scratch = 0


def scratch(tmp_path_factory) -> Path:
    global _scratch
    _scratch += 1
    return tmp_path_factory.mktemp(f"fuzz{_scratch}", numbered=True)


# --- documents from the schema ---------------------------------------------------------------


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(document=from_schema(SCHEMA))
# a path with a NUL character, which no file name can hold (os.stat raises ValueError on it)
@example(document={**EXAMPLES["digits"], "arrays": "a\x00b.npz"})
@example(document={**EXAMPLES["digits"], "data": {"kind": "npz", "path": "a\x00b.npz"}})
def test_schema_documents(tmp_path_factory, document):
    check_commands(scratch(tmp_path_factory), json.dumps(document, indent=2))


# --- mutations of the examples -----------------------------------------------------------------

BIG = [0, -1, 1, 2, 3, 2**24, 2**31, 2**63, 10**30, 1e-300, 1e300, -1e300, 0.5, 1.5, -0.5]
STRINGS = ["", "lif", "hidden", "x y", "input", "digits", "abc\n", "a" * 70, "/dev/zero", ".", "..", "model.json",
           "npz", "arrays.npz", "kind", "é"]
scalars = st.one_of(st.none(), st.booleans(), st.sampled_from(BIG), st.integers(-5, 5000),
                    st.floats(-2, 2, allow_nan=False), st.sampled_from(STRINGS))
values = st.one_of(scalars, st.just({}), st.just([]), st.lists(scalars, max_size=3),
                   st.dictionaries(st.sampled_from(["kind", "id", "size", "model", "x"]), scalars, max_size=3))


@st.composite
def mutated_examples(draw):
    name = draw(st.sampled_from(sorted(EXAMPLES)))
    document = json.loads(json.dumps(EXAMPLES[name]))
    for _ in range(draw(st.integers(1, 4))):
        all_paths = [p for p in paths(document) if p]
        if not all_paths:
            break
        path = draw(st.sampled_from(all_paths))
        node = document
        for token in path[:-1]:
            node = node[token]
        action = draw(st.sampled_from(["set", "set", "delete", "duplicate"]))
        if action == "delete":
            del node[path[-1]]
        elif action == "duplicate" and isinstance(node, list):
            node.insert(path[-1], json.loads(json.dumps(node[path[-1]])))
        else:
            node[path[-1]] = draw(values)
    return json.dumps(document, indent=draw(st.sampled_from([None, 1, 2])))


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=mutated_examples())
# values the mutations reach only rarely: a clock that makes step times overflow, an id with a
# line break, a device file as the arrays file
@example(text=json.dumps({**EXAMPLES["digits"], "target": {"clock_hz": 1e-300}}))
@example(text=json.dumps({**EXAMPLES["digits"], "name": "abc\n"}))
@example(text=json.dumps({**EXAMPLES["digits"], "arrays": "/dev/zero"}))
def test_mutated_examples(tmp_path_factory, text):
    check_commands(scratch(tmp_path_factory), text)


@st.composite
def damaged_texts(draw):
    """An example's text cut short, or with characters inserted or removed."""
    text = json.dumps(EXAMPLES[draw(st.sampled_from(sorted(EXAMPLES)))], indent=2)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["cut", "insert", "delete"]))
        if action == "cut":
            text = text[:at]
        elif action == "insert":
            text = text[:at] + draw(st.sampled_from(list('{}[],:"\\ \n0-e.') + ["NaN", "1" * 5000, "[" * 2000]))\
                + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
    return text


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=damaged_texts())
# nesting far beyond Python's recursion limit, an integer longer than Python reads
@example(text="[" * 100_000)
@example(text='{"timesteps": ' + "9" * 5000 + "}")
def test_damaged_texts(tmp_path_factory, text):
    check_commands(scratch(tmp_path_factory), text)


# --- plausible models: valid networks with extreme sizes and targets ------------------------------


@st.composite
def plausible_models(draw):
    """A chain (with an optional recurrent or skip projection) of random sizes, neuron models,
    capacities and targets, most of them valid, many too big for their target."""
    depth = draw(st.integers(1, 4))
    sizes = [draw(st.sampled_from([1, 2, 7, 64, 700, 4096, 2**16, 2**24]) | st.integers(1, 3000))
             for _ in range(depth + 2)]
    ids = ["inp"] + [f"h{i}" for i in range(depth)] + ["out"]

    def sparsity(size):
        s = {}
        if draw(st.booleans()):
            s["max_activity"] = draw(st.sampled_from([1e-6, 0.01, 0.5, 1.0]))
        elif draw(st.booleans()):
            s["max_spikes"] = draw(st.integers(1, size))
        if draw(st.booleans()):
            s["overflow"] = draw(st.sampled_from(["drop", "error"]))
        return s

    def neuron(last):
        model = draw(st.sampled_from(["lif", "if", "cuba_lif"] + (["li"] if last else [])))
        n = {"model": model}
        if model != "if":
            n["beta"] = draw(st.sampled_from([0.0, 0.5, 0.9, 1.0]))
        if model == "cuba_lif":
            n["alpha"] = draw(st.sampled_from([0.0, 0.8, 1.0]))
        return n

    pops = [{"kind": "input", "id": "inp", "size": sizes[0], "sparsity": sparsity(sizes[0])}]
    for i, (pid, size) in enumerate(zip(ids[1:], sizes[1:])):
        pop = {"kind": "neuron", "id": pid, "size": size, "neuron": neuron(i == len(ids) - 2)}
        if pop["neuron"]["model"] != "li":
            pop["sparsity"] = sparsity(size)
            if draw(st.booleans()):
                pop["sparsity"]["gradient_threshold"] = draw(st.sampled_from([0.01, 0.5, 0.99]))
        pops.append(pop)
    projs = []
    for i in range(1, len(ids)):
        proj = {"id": f"p{i}", "source": ids[i - 1], "target": ids[i], "delay": draw(st.integers(0, 2)),
                "bias": draw(st.booleans())}
        if draw(st.booleans()):
            proj["connectivity"] = {"kind": "sparse", "fan_in": draw(st.integers(1, sizes[i - 1]))}
        projs.append(proj)
    if depth and draw(st.booleans()):
        h = draw(st.sampled_from(ids[1:-1]))
        projs.append({"id": "rec", "source": h, "target": h, "delay": draw(st.integers(1, 3))})
    readout_model = pops[-1]["neuron"]["model"]
    decoding = "membrane_sum" if readout_model == "li" else draw(
        st.sampled_from(["spike_count", "membrane_sum", "membrane_max"]))
    target = {}
    for key, choices in (("num_ipus", [1, 2, 16, 1024]), ("tiles_per_ipu", [1, 2, 64, 1472]),
                         ("bytes_per_tile", [1024, 65536, 638976, 2**40]), ("workers_per_tile", [1, 6, 16]),
                         ("clock_hz", [1e-300, 1.0, 1.33e9, 1e300]), ("replication_factor", [1, 2, 3])):
        if draw(st.booleans()):
            target[key] = draw(st.sampled_from(choices))
    doc = {
        "name": "fuzz", "timesteps": draw(st.sampled_from([1, 2, 25, 1000, 100000])),
        "populations": pops, "projections": projs,
        "readout": {"population": "out", "decoding": decoding},
        "training": {"batch_size": draw(st.sampled_from([1, 2, 48, 4096])),
                     "optimizer": draw(st.sampled_from([{"kind": "adam"}, {"kind": "sgd", "momentum": 0.9}])),
                     "precision": draw(st.sampled_from(["float32", "float16"]))},
        "data": {"kind": "synthetic", "num_classes": max(2, sizes[-1]) if sizes[-1] <= 1000 else 10,
                 "num_samples": draw(st.sampled_from([2, 100, 10**9]))},
        "target": target,
    }
    return json.dumps(doc)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=plausible_models())
def test_plausible_models(tmp_path_factory, text):
    check_commands(scratch(tmp_path_factory), text)
