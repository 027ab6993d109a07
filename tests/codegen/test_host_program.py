"""program.cpp as Poplar host code: builders per vertex type with named connects, host handles
only for what the host touches, streamed optimizer scalars, device selection, gathering edges."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from snncc import tensorfile
from snncc.driver import build, compile_model, compile_spec
from snncc.codegen.render import write_build_dir
from snncc.lower.host import host_program
from snncc.runtime import runtime_dir
from snncc.runtime.build import default_cache_root, runtime_library
from snncc.verify.harness import init_tensors

from codegen_helpers import ROOT, small_spec

PROGRAMS = ROOT / "tests" / "codegen" / "programs"


def _digits():
    c = compile_model(ROOT / "examples/digits.json")
    return c.program, c.files


def _builders(text: str) -> dict[str, str]:
    """builder name -> its body, from program.cpp."""
    pattern = r"\nvoid (add\w+)\(Graph &graph, ComputeSet cs[^\n]*\{\n(.*?)\n\}\n"
    return {m.group(1): m.group(2) for m in re.finditer(pattern, text, re.S)}


def test_every_vertex_type_has_builders_that_connect_its_fields_by_name():
    prog, files = _digits()
    text = files["program.cpp"].decode()
    builders = _builders(text)
    for vt in prog.vertex_types:
        if not any(g.vertex == vt.name for e in prog.elements for g in e.groups):
            continue  # registered for host builds, added by no element
        mine = [body for body in builders.values() if f'graph.addVertex(cs, "{vt.name}")' in body]
        assert mine, vt.name
        for body in mine:
            named = re.findall(r'(?:connect|setInitialValue)\(v\["(\w+)"\]', body)
            assert sorted(named) == sorted(f.name for f in vt.fields), vt.name
    # the generic binder is gone, and every builder is called
    driver = files["program_driver.hpp"].decode()
    assert not re.search(r"\b(Role|Slice|Bind|Pattern)\b", driver + text)
    calls = re.findall(r"^  (add\w+)\(graph, cs\(\"", text, re.M)
    assert set(calls) == set(builders)
    # digits' hidden Forward: one vertex per neuron tile, its incoming weights the tile's slice
    fwd = builders["addForward_lif_subtract_ib"]
    assert "for (unsigned j = 0; j < tileRange.numTiles; ++j)" in fwd
    assert 'graph.connect(v["w0"], in0.tile("w", j));' in fwd
    assert 'graph.connect(v["ids0"], src0["ringIds"]);' in fwd
    assert ('addForward_lif_subtract_ib(graph, cs("forward.stage0"), E("hidden"), E("pixels_to_hidden"), '
            'E("pixels"), *E.globals, 64, 0, 1);') in text


def _tensor_table(text: str) -> dict[str, tuple[str, ...]]:
    """"<element>.<what>" -> host flags, from program.cpp's element table."""
    out = {}
    for m in re.finditer(r'^    \{"(\w*)", \d+, \d+, [^\n]*\n     \{(.*)\}\},$', text, re.M):
        for what, flags in re.findall(r"\{\"(\w+)\", \w+_ELEMENTS, \w+, \d+, ([\w| ]+)\}", m.group(2)):
            out[f"{m.group(1)}.{what}" if m.group(1) else what] = tuple(f for f in flags.split(" | ") if f != "0")
    return out


def test_host_handles_only_for_tensors_the_host_writes_or_reads():
    prog, files = _digits()
    table = _tensor_table(files["program.cpp"].decode())
    # every tensor of digits (Adam: m, v and their bias copies; partials and sums for the input gradient)
    assert len(table) == 5 + 12 + 12 + 8 + 10 + 6
    writes = {k for k, f in table.items() if "WRITE" in f}
    reads = {k for k, f in table.items() if "READ" in f}
    projections = ("pixels_to_hidden", "hidden_to_output")
    # INIT: per-neuron parameters, weights and biases; a checkpoint's weights and Adam state
    assert writes == ({f"{p}.{w}" for p in ("hidden", "output") for w in ("beta", "threshold")}
                      | {f"{p}.{w}" for p in projections for w in ("w", "b", "m", "bm", "v", "bv")})
    # read back: spike ids (counts, overflow, loss and scores come through the output streams),
    # membranes, gradients, and the checkpoint tensors
    assert reads == ({f"{p}.ids" for p in ("pixels", "hidden", "output")} | {"hidden.mem", "output.mem"}
                     | {f"{p}.{w}" for p in projections for w in ("w", "b", "dw", "db", "m", "bm", "v", "bv")})
    assert host_program(prog).handles == (len(writes), len(reads))
    # zero-initialised unless the host always writes it (weights, biases, parameters)
    zero = {k for k, f in table.items() if "ZERO" in f}
    assert zero == set(table) - {k for k in writes if k.rsplit(".", 1)[1] in ("w", "b", "beta", "threshold")}
    driver = files["program_driver.hpp"].decode()
    assert driver.count("createHostWrite(") == 1 and driver.count("createHostRead(") == 1
    assert "if (d.host & WRITE)\n          graph.createHostWrite(name, t);" in driver
    assert "graph.setInitialValue(t, 0.0f);" in driver and 'writeTensor(kv.first' not in driver


def test_optimizer_scalars_are_streamed_at_the_start_of_the_training_step():
    _, files = _digits()
    driver = files["program_driver.hpp"].decode()
    assert 'graph.addHostToDeviceFIFO("in.hyper", FLOAT, V("hyper").numElements())' in driver
    assert 'Sequence step{Copy(inHyper, V("hyper")), batchIn,' in driver
    assert 'writeFloats("hyper"' not in driver and 'writeTensor("hyper"' not in driver


def test_the_same_spec_gives_the_same_program():
    a, b = _digits()[1], _digits()[1]
    assert a["program.cpp"] == b["program.cpp"]


# --------------------------------------------------------------------------- a built program


@pytest.fixture(scope="module")
def small_program(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("host_program")
    spec = tmp / "names.json"  # the spec test_output.py builds: one cached build for both
    spec.write_text(json.dumps(small_spec("names")))
    ir, files = compile_spec(spec)
    src = write_build_dir(files, tmp / "names")
    return ir, build(src, "host", cache_root=default_cache_root()), tmp


def _run(binary, *args, env=None):
    e = {k: v for k, v in os.environ.items() if k != "SNNCC_DEVICE"}
    e.update(env or {})
    return subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True, env=e, timeout=300)


def test_device_selection(small_program):
    ir, binary, tmp = small_program
    init = tmp / "empty.bin"
    tensorfile.write(init, {})
    # an IPU asked for on a machine without one: one line, how many devices for how many IPUs
    r = _run(binary, init, tmp / "batch.bin", tmp / "out.bin", env={"SNNCC_DEVICE": "ipu"})
    assert r.returncode == 1
    assert r.stderr == ("error: no IPU device attached: 0 devices of 1 IPUs found (SNNCC_DEVICE=model runs the "
                        "IPUModel)\n")
    r = _run(binary, init, tmp / "batch.bin", tmp / "out.bin", env={"SNNCC_DEVICE": "gpu"})
    assert (r.returncode, r.stderr) == (1, "error: SNNCC_DEVICE is 'gpu': use ipu or model\n")
    # the host build's default is the model: it gets past the device to the missing parameters
    r = _run(binary, init, tmp / "batch.bin", tmp / "out.bin")
    assert r.returncode == 1 and r.stderr.endswith("empty.bin: tensor 'beta.h' is missing\n"), r.stderr


def test_a_checkpoint_tensor_the_host_does_not_write_is_refused(small_program):
    ir, binary, tmp = small_program
    _, init = init_tensors(ir)
    batch = {"inputs": np.zeros((6, 5, 12), dtype=np.uint8), "labels": np.zeros(5, dtype=np.uint32)}
    tensorfile.write(tmp / "batch.bin", batch)
    good = dict(init, **{"dev.x_to_h.m": np.zeros(12 * 9, dtype=np.float32)})
    tensorfile.write(tmp / "good.bin", good)
    assert _run(binary, tmp / "good.bin", tmp / "batch.bin", tmp / "out.bin").returncode == 0
    # the membranes have no host write handle: not a tensor a checkpoint carries
    bad = dict(init, **{"dev.h.mem": np.zeros(7 * 5 * 9, dtype=np.float32)})
    tensorfile.write(tmp / "bad.bin", bad)
    r = _run(binary, tmp / "bad.bin", tmp / "batch.bin", tmp / "out.bin")
    assert r.returncode == 1 and "tensor 'dev.h.mem' does not fit this program" in r.stderr, r.stderr


# --------------------------------------------------------------------------- gathering edges


def test_gathering_edges_select_the_blocks_a_vertex_reads(tmp_path):
    """samplesOf, chunkOf, columnsOf and mapChunks on hand-sized tensors whose element k is k,
    against the blocks worked out by hand (the slicing rule; chunks of ceil(E / P) entries)."""
    exe = tmp_path / "gather_edges"
    # the runtime library links MPI where it was found (replicas): mpicxx adds its libraries
    subprocess.run([shutil.which("mpicxx") or "g++", "-std=c++17", "-O0", str(PROGRAMS / "gather_edges.cpp"), "-I",
                    str(runtime_dir() / "include"), "-I", str(ROOT / "templates" / "host"), str(runtime_library()),
                    "-lpthread", "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        # 5 neurons on tiles [0, 3), [3, 5), batch 3: tile 0's samples 1, 2 are [3, 9), tile 1's [9 + 2, 9 + 6)
        "samples 1 2: 3 4 5 6 7 8 11 12 13 14",
        "samples 0 1: 0 1 2 9 10",
        # partials [3][5], chunks of ceil(5 / 3) = 2 entries: [0, 2), [2, 4), [4, 5) of every row
        "chunk 0: 0 1 5 6 10 11",
        "chunk 2: 4 9 14",
        # 2 samples x 5 neurons: neurons [lo, hi) of each sample
        "columns 1 3: 1 2 6 7",
        "columns 3 5: 3 4 8 9",
        # 5 entries on tiles 2, 3, 4 in chunks of 2, padded to 6 values
        "chunks: 2:[0,2) 3:[2,4) 4:[4,6)",
    ]
