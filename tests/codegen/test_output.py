"""Generated files: deterministic, real Poplar names only, clean codelets, size independent of tiles."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess

import pytest

from snncc.cli import main
from snncc.driver import build, compile_spec
from snncc.runtime import runtime_dir
from snncc.runtime.build import default_cache_root

from codegen_helpers import ROOT, small_spec

_spec = importlib.util.spec_from_file_location("api_decl", ROOT / "tests/runtime/test_api_declarations.py")
api = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api)


def _write(tmp_path, spec):
    p = tmp_path / f"{spec['name']}.json"
    p.write_text(json.dumps(spec))
    return p


def test_compile_is_byte_identical(tmp_path):
    assert main(["compile", str(ROOT / "examples/recurrent.json"), "-o", str(tmp_path / "a")]) == 0
    assert main(["compile", str(ROOT / "examples/recurrent.json"), "-o", str(tmp_path / "b")]) == 0
    a = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    b = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file()}
    assert a == b
    manifest = json.loads(a[__import__("pathlib").Path("manifest.json")])
    assert set(manifest["files"]) == {str(p) for p in a if str(p) != "manifest.json"}


def test_failed_compile_keeps_previous_output(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compile", str(ROOT / "examples/digits.json"), "-o", str(out)]) == 0
    before = (out / "program.cpp").read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(small_spec("bad", optimizer={"kind": "adam", "lr": -1})))
    assert main(["compile", str(bad), "-o", str(out)]) == 1
    assert (out / "program.cpp").read_bytes() == before
    assert "Traceback" not in capsys.readouterr().err


def test_program_size_does_not_grow_with_tiles(tmp_path):
    small = small_spec("tiles", tiles=16)
    large = small_spec("tiles", tiles=1472)
    _, f1 = compile_spec(_write(tmp_path, small))
    (tmp_path / "tiles.json").unlink()
    _, f2 = compile_spec(_write(tmp_path, large))
    assert len(f1["program.cpp"].splitlines()) == len(f2["program.cpp"].splitlines())


def test_codelets_compile_with_werror_double_promotion(tmp_path):
    spec = small_spec("hygiene", hidden=[
        {"kind": "neuron", "id": "h", "size": 9, "neuron": {"model": "cuba_lif", "beta": 0.9, "alpha": 0.5},
         "sparsity": {"gradient_threshold": 0.5}}], decoding="membrane_max",
        readout={"kind": "neuron", "id": "out", "size": 3, "neuron": {"model": "li", "beta": 0.9}})
    _, files = compile_spec(_write(tmp_path, spec))
    for name in ("codelets/model.cpp", "codelets/snncc_generic.cpp"):
        src = tmp_path / name.replace("/", "_")
        src.write_bytes(files[name])
        text = files[name].decode()
        assert not re.search(r"#include\s*<(vector|map|string|memory|array|list|deque|set)>", text)
        subprocess.run(["g++", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-Wdouble-promotion", "-fsyntax-only",
                        "-I", str(runtime_dir() / "include"), str(src)], check=True)


def test_program_calls_only_listed_poplar_functions(tmp_path):
    """Every poplar:: function program.cpp's object file calls is in the SDK declaration list."""
    from snncc.codegen.render import write_build_dir
    _, files = compile_spec(_write(tmp_path, small_spec("names")))
    src = write_build_dir(files, tmp_path / "names")
    binary = build(src, "host", cache_root=default_cache_root())
    obj = next(binary.parent.rglob("program.cpp.o"))
    nm = subprocess.run(["nm", "-C", "--undefined-only", str(obj)], capture_output=True, text=True, check=True)
    listed = api.listed_signatures() | {api.signature(*s[:-1].split("(", 1)) for s in api.EXTRA}
    called = set()
    for line in nm.stdout.splitlines():
        m = re.match(r"^\s*U (?:[\w:]+ )?(poplar::[\w:~]+(?:<(\w+)>)?)\((.*)\)( const)?$", line)
        if not m:
            continue
        name, targ, params = m.group(1), m.group(2), m.group(3)
        if targ:
            name = name[: name.index("<")]
            params = ", ".join(p for p in (re.sub(rf"\b{targ}\b", "T", q) for q in api.split_params(params))
                               if p != "void*" and "enable_if" not in p)
        called.add(api.signature(name, params))
    assert len(called) > 15
    missing = sorted(s for s in called if s not in listed and not api.is_special_member(s))
    assert not missing, missing


def test_shd_deep_16ipu_program_grows_with_layers_only():
    # 193 hidden layers: about nine builder calls and two table lines per layer and its
    # projection, besides the builders (2,914 lines; 23,297 when it was unrolled per tile)
    _, files = compile_spec(ROOT / "examples/shd_deep_16ipu.json")
    lines = len(files["program.cpp"].splitlines())
    assert lines < 3500, lines


@pytest.mark.slow
def test_shd_deep_16ipu_program_compiles(tmp_path):
    _, files = compile_spec(ROOT / "examples/shd_deep_16ipu.json")
    # one codelet class per feature combination, not per population (it was 44,641 lines)
    assert len(files["codelets/model.cpp"].splitlines()) < 1400
    src = tmp_path / "program.cpp"
    src.write_bytes(files["program.cpp"])
    for header in ("program_support.hpp", "program_driver.hpp"):
        (tmp_path / header).write_bytes(files[header])
    subprocess.run(["g++", "-std=c++17", "-O0", "-fsyntax-only", "-I", str(runtime_dir() / "include"),
                    "-I", str(tmp_path), str(src)], check=True)


def test_plan_and_compile_for_the_cpu_shaped_target(tmp_path, capsys):
    """--layout cpu: this machine's CPU-shaped target (2 tiles per runtime thread, one IPU),
    which `snncc train` runs by default."""
    spec = ROOT / "examples/digits.json"
    assert main(["plan", str(spec), "--layout", "cpu", "--threads", "3"]) == 0
    assert capsys.readouterr().out.startswith("plan digits: 1 IPU x 6 tiles")
    assert main(["compile", str(spec), "-o", str(tmp_path / "cpu"), "--layout", "cpu", "--threads", "3"]) == 0
    target = json.loads((tmp_path / "cpu" / "plan.json").read_text())["target"]
    assert (target["num_ipus"], target["tiles_per_ipu"]) == (1, 6)
    assert main(["compile", str(spec), "-o", str(tmp_path / "ipu")]) == 0
    assert json.loads((tmp_path / "ipu" / "plan.json").read_text())["target"]["tiles_per_ipu"] == 1472


def test_every_template_filter_and_global_is_used():
    import jinja2

    from snncc.codegen.render import environment
    env, plain = environment(), jinja2.Environment()
    ours = (set(env.filters) - set(plain.filters)) | (set(env.globals) - set(plain.globals))
    text = "".join(p.read_text() for p in (ROOT / "templates").rglob("*.j2"))
    unused = {name for name in ours if not re.search(rf"(\|\s*{name}\b|\b{name}\()", text)}
    assert ours and not unused, f"registered in snncc.codegen.render.environment and used by no template: {unused}"
