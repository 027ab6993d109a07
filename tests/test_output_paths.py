"""Output paths: no command deletes or overwrites what it did not write itself.

Each refusal is one line on stderr with exit 1 and leaves every file under the test's
directory byte-for-byte as it was; a command's own earlier output is replaced; and an
interrupt or error at any step of a build directory's swap leaves the old or the new
directory in place, complete with its build cache.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
from pathlib import Path

import pytest

from snncc.cli import main
from snncc.driver import compile_spec
from snncc.errors import UserError
from snncc.runs.rundir import METRICS, RunDir

ROOT = Path(__file__).resolve().parents[1]
# the module (snncc.codegen's `render` is the function of that name)
render = importlib.import_module("snncc.codegen.render")


def tree(path: Path) -> dict[str, str]:
    """Every entry under path, links not followed: file -> sha256, dir -> "dir", link -> its target."""
    out = {}
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            p = Path(root) / name
            rel = str(p.relative_to(path))
            if p.is_symlink():
                out[rel] = "link -> " + os.readlink(p)
            elif p.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def write_model(directory: Path, name: str = "model.json", hidden: int = 32) -> Path:
    doc = json.loads((ROOT / "examples/digits.json").read_text())
    doc.pop("$schema")
    doc["populations"][1]["size"] = hidden
    path = directory / name
    path.write_text(json.dumps(doc, indent=2))
    return path


def refused(capsys, argv: list[str]) -> str:
    """Run snncc with argv; it must exit 1 with exactly one stderr line; return that line."""
    assert main(argv) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.fixture
def work(tmp_path, monkeypatch):
    """tmp_path as the current directory, with model.json and a user's notes.txt in it."""
    monkeypatch.chdir(tmp_path)
    write_model(tmp_path)
    (tmp_path / "notes.txt").write_text("my notes\n")
    return tmp_path


# --------------------------------------------------------------------------- compile -o


def _setup_compile_target(work: Path, case: str) -> str:
    if case == "file":
        return "notes.txt"
    if case == "foreign_dir":
        (work / "mine").mkdir()
        (work / "mine" / "thesis.tex").write_text("years of work\n")
        return "mine"
    if case == "current_dir":
        return "."
    if case == "symlink_to_foreign_dir":
        (work / "elsewhere").mkdir()
        (work / "elsewhere" / "keep.txt").write_text("keep\n")
        (work / "link").symlink_to(work / "elsewhere")
        return "link"
    if case in ("symlink_to_build_dir", "build_dir_with_a_user_file", "build_dir_holding_the_model",
                "manifest_not_snncc", "manifest_not_json"):
        assert main(["compile", "model.json", "-o", "out"]) == 0
        if case == "symlink_to_build_dir":
            (work / "link").symlink_to(work / "out")
            return "link"
        if case == "build_dir_with_a_user_file":
            (work / "out" / "codelets" / "my_codelet.cpp").write_text("// mine\n")
        if case == "manifest_not_snncc":
            (work / "out" / "manifest.json").write_text('{"files": ["program.cpp"]}\n')
        if case == "manifest_not_json":
            (work / "out" / "manifest.json").write_text("not json\n")
        return "out"
    raise AssertionError(case)


COMPILE_REFUSALS = {
    "file": "-o notes.txt: is a file; give a directory",
    "foreign_dir": "-o mine: is not empty and was not written by snncc compile (no manifest.json); "
                   "choose a new directory",
    "current_dir": "-o .: is the current directory or holds it; choose a new directory",
    "symlink_to_foreign_dir": "-o link: is a symbolic link; snncc does not write through links: give the real path",
    "symlink_to_build_dir": "-o link: is a symbolic link; snncc does not write through links: give the real path",
    "build_dir_with_a_user_file": "-o out: holds codelets/my_codelet.cpp, which snncc compile did not write "
                                  "(its manifest.json does not list it); choose a new directory or remove it",
    "manifest_not_snncc": "-o out: has a manifest.json that is not one snncc compile writes; choose a new directory",
    "manifest_not_json": "-o out: has a manifest.json that is not one snncc compile writes; choose a new directory",
}


@pytest.mark.parametrize("case", sorted(COMPILE_REFUSALS))
def test_compile_refuses_what_it_did_not_write(work, capsys, case):
    target = _setup_compile_target(work, case)
    capsys.readouterr()
    before = tree(work)
    assert refused(capsys, ["compile", "model.json", "-o", target]) == f"snncc compile: error: {COMPILE_REFUSALS[case]}"
    assert tree(work) == before


def test_compile_refuses_the_models_own_directory(tmp_path, monkeypatch, capsys):
    """From elsewhere too: a directory that holds the model file is never replaced."""
    models = tmp_path / "models"
    models.mkdir()
    model = write_model(models)
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    before = tree(tmp_path)
    assert refused(capsys, ["compile", str(model), "-o", str(models)]) == (
        f"snncc compile: error: -o {models}: holds {model}, which this command reads; choose a new directory")
    # the model copy inside a build directory: compiling it into that directory is refused too
    assert main(["compile", str(model), "-o", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    before = tree(tmp_path)
    copy = tmp_path / "out" / "model.json"
    assert refused(capsys, ["compile", str(copy), "-o", str(tmp_path / "out")]) == (
        f"snncc compile: error: -o {tmp_path / 'out'}: holds {copy}, which this command reads; choose a new directory")
    assert tree(tmp_path) == before


def test_compile_under_a_file_and_into_an_empty_dir(work, capsys):
    before = tree(work)
    assert refused(capsys, ["compile", "model.json", "-o", "notes.txt/out"]) == (
        "snncc compile: error: -o notes.txt/out: notes.txt is a file, not a directory to write in")
    assert tree(work) == before
    (work / "empty").mkdir()
    assert main(["compile", "model.json", "-o", "empty"]) == 0
    assert (work / "empty" / "manifest.json").is_file()


def test_compile_replaces_its_own_output_and_keeps_the_build_cache(work, capsys):
    assert main(["compile", "model.json", "-o", "out"]) == 0
    (work / "out" / "build").mkdir()
    (work / "out" / "build" / "cache.o").write_bytes(b"object code")
    (work / "out" / "__pycache__").mkdir()  # Python compiled train.py there: derived, replaced
    (work / "out" / "__pycache__" / "train.cpython-311.pyc").write_bytes(b"bytecode")
    readme = work / "out" / "README.md"
    os.utime(readme, (1_000_000, 1_000_000))
    write_model(work, hidden=48)
    assert main(["compile", "model.json", "-o", "out"]) == 0
    assert (work / "out" / "build" / "cache.o").read_bytes() == b"object code"
    assert readme.stat().st_mtime == 1_000_000  # unchanged content keeps its timestamp
    _, files = compile_spec(work / "model.json")
    got = {k: v for k, v in tree(work / "out").items() if not k.startswith("build")}
    assert got == {**{k: hashlib.sha256(v).hexdigest() for k, v in files.items()}, "codelets": "dir"}
    assert sorted(p.name for p in work.iterdir()) == ["model.json", "notes.txt", "out"]  # no temporary left


def test_build_of_a_foreign_directory_is_refused(work, capsys):
    """`snncc build` writes DIR/build: only in a directory that snncc compile wrote."""
    (work / "mine").mkdir()
    (work / "mine" / "CMakeLists.txt").write_text("project(mine)\n")
    before = tree(work)
    line = refused(capsys, ["build", "mine"])
    assert line.startswith("snncc build: error: ") and "not a directory written by `snncc compile`" in line
    assert tree(work) == before


# --------------------------------------------------------------------------- the swap


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    """The files of two different build directories (the old and the new output)."""
    d = tmp_path_factory.mktemp("models")
    _, old = compile_spec(write_model(d, "a.json", hidden=32))
    (d / "a.json").unlink()
    _, new = compile_spec(write_model(d, "a.json", hidden=40))
    assert old != new
    return old, new


def expected_tree(files: dict[str, bytes], cache: bytes | None) -> dict[str, str]:
    t = {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    t["codelets"] = "dir"
    if cache is not None:
        t["build"] = "dir"
        t["build/cache.o"] = hashlib.sha256(cache).hexdigest()
    return t


class Faults:
    """Makes the k-th call of any file-system step of write_build_dir raise, before or after
    the step itself runs."""

    def __init__(self, monkeypatch, k: int, when: str, error: type[BaseException], steps: tuple[str, ...],
                 exchange: bool = True):
        self.k, self.when, self.error, self.calls, self.fired = k, when, error, 0, False
        real = {"os.rename": os.rename, "shutil.rmtree": shutil.rmtree, "shutil.copy2": shutil.copy2,
                "Path.write_bytes": Path.write_bytes, "exchange_paths": render.exchange_paths,
                "rename_noreplace": render.rename_noreplace}
        if not exchange:
            real["exchange_paths"] = lambda a, b: False  # a system without RENAME_EXCHANGE
        wrapped = {name: (self.wrap(fn) if name in steps else fn) for name, fn in real.items()}
        monkeypatch.setattr(os, "rename", wrapped["os.rename"])
        monkeypatch.setattr(shutil, "rmtree", wrapped["shutil.rmtree"])
        monkeypatch.setattr(shutil, "copy2", wrapped["shutil.copy2"])
        monkeypatch.setattr(Path, "write_bytes", wrapped["Path.write_bytes"])
        monkeypatch.setattr(render, "exchange_paths", wrapped["exchange_paths"])
        monkeypatch.setattr(render, "rename_noreplace", wrapped["rename_noreplace"])

    def wrap(self, fn):
        def step(*args, **kwargs):
            self.calls += 1
            fire = self.calls == self.k
            if fire and self.when == "before":
                self.fired = True
                raise self.error("injected")
            result = fn(*args, **kwargs)
            if fire:
                self.fired = True
                raise self.error("injected")
            return result
        return step


ALL_STEPS = ("os.rename", "shutil.rmtree", "shutil.copy2", "Path.write_bytes", "exchange_paths", "rename_noreplace")
# a real rmtree(ignore_errors=True) never raises OSError
OSERROR_STEPS = tuple(s for s in ALL_STEPS if s != "shutil.rmtree")


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "fallback"])
@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError])
@pytest.mark.parametrize("had_old", [True, False], ids=["replace", "create"])
def test_a_fault_at_any_step_leaves_the_old_or_the_new_directory(tmp_path, monkeypatch, two_builds, exchange,
                                                                  when, error, had_old):
    old, new = two_builds
    cache = b"object code"
    steps = ALL_STEPS if error is KeyboardInterrupt else OSERROR_STEPS
    outcomes = set()
    for k in range(1, 200):
        base = tmp_path / f"k{k}"
        base.mkdir()
        out = base / "out"
        if had_old:
            render.write_build_dir(old, out)
            (out / "build").mkdir()
            (out / "build" / "cache.o").write_bytes(cache)
        with monkeypatch.context() as m:
            faults = Faults(m, k, when, error, steps, exchange)
            try:
                render.write_build_dir(new, out)
            except error:
                assert faults.fired
        now = tree(out) if out.exists() else None
        old_tree = expected_tree(old, cache) if had_old else None
        assert now in (old_tree, expected_tree(new, cache if had_old else None)), (k, now)
        outcomes.add("old" if now == old_tree else "new")
        # the cache exists exactly once: never stranded in a hidden sibling
        assert len(list(base.rglob("cache.o"))) == (1 if had_old else 0)
        if not faults.fired:
            assert now == expected_tree(new, cache if had_old else None)
            break
        # a later write still works from whatever was left
        render.write_build_dir(new, out)
        assert tree(out) == expected_tree(new, cache if had_old else None)
    else:
        raise AssertionError("write_build_dir never finished")
    assert k > 3
    if had_old:  # faults before the exchange keep the old tree, faults after it the new one
        assert outcomes == {"old", "new"}


def test_an_interrupt_says_which_directory_is_in_place(tmp_path, monkeypatch, two_builds, capsys):
    old, new = two_builds
    out = tmp_path / "out"
    render.write_build_dir(old, out)
    with monkeypatch.context() as m:
        Faults(m, 1, "before", KeyboardInterrupt, ("exchange_paths",))
        with pytest.raises(KeyboardInterrupt, match=f"^{out} holds the previous build directory$"):
            render.write_build_dir(new, out)
    with monkeypatch.context() as m:
        Faults(m, 1, "after", KeyboardInterrupt, ("exchange_paths",))
        with pytest.raises(KeyboardInterrupt, match=f"^{out} holds the new build directory$"):
            render.write_build_dir(new, out)
    assert tree(out) == expected_tree(new, None)


def test_an_oserror_while_writing_is_one_line(work, monkeypatch, capsys):
    def full(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    assert refused(capsys, ["compile", "model.json", "-o", "out"]) == (
        "snncc compile: error: -o out: cannot write: No space left on device")
    assert sorted(p.name for p in work.iterdir()) == ["model.json", "notes.txt"]


# --------------------------------------------------------------------------- file outputs

FILE_OUTPUTS = {
    "--graphml": ["inspect", "model.json", "--graphml"],
    "--dot": ["inspect", "model.json", "--dot"],
    "--plot": ["plan", "model.json", "--plot"],
    "schema -o": ["schema", "-o"],
}


def _option(name: str) -> str:
    return name.split()[-1]


@pytest.mark.parametrize("output", sorted(FILE_OUTPUTS))
def test_file_outputs_refuse_what_they_did_not_write(work, capsys, output):
    argv, option = FILE_OUTPUTS[output], _option(output)
    cmd = argv[0]
    (work / "adir").mkdir()
    (work / "adir" / "mine.txt").write_text("mine\n")
    (work / "link").symlink_to(work / "notes.txt")
    cases = {
        "notes.txt/out": f"{option} notes.txt/out: notes.txt is a file, not a directory to write in",
        "adir": f"{option} adir: is a directory; give a file name",
        "new/": f"{option} new/: ends with a slash; give a file name",
        "link": f"{option} link: is a symbolic link; snncc does not write through links: give the real path",
        "": f"{option}: the path is empty",
    }
    kind = {"--graphml": "a GraphML file", "--dot": "a Graphviz DOT file", "--plot": "a PNG image",
            "schema -o": "a JSON Schema"}[output]
    cases["notes.txt"] = (f"{option} notes.txt: exists and is not {kind}, so not an earlier output of this command; "
                          "choose another name or remove it")
    if cmd != "schema":
        cases["model.json"] = f"{option} model.json: is model.json, which this command reads; choose another name"
    before = tree(work)
    for path, message in cases.items():
        assert refused(capsys, [*argv, path]) == f"snncc {cmd}: error: {message}", path
        assert tree(work) == before, path


@pytest.mark.parametrize("output", sorted(FILE_OUTPUTS))
def test_file_outputs_replace_their_own_earlier_output(work, capsys, output):
    argv = FILE_OUTPUTS[output]
    (work / "empty.out").write_bytes(b"")
    for _ in range(2):
        assert main([*argv, "out.file"]) == 0
    assert main([*argv, "sub/dir/out.file"]) == 0  # missing parents are created
    assert main([*argv, "empty.out"]) == 0  # an empty file holds nothing to lose
    data = (work / "out.file").read_bytes()
    assert data and (work / "sub/dir/out.file").read_bytes() == data == (work / "empty.out").read_bytes()
    assert (work / "notes.txt").read_text() == "my notes\n"


def test_graphml_and_dot_to_the_same_file_is_refused(work, capsys):
    before = tree(work)
    assert refused(capsys, ["inspect", "model.json", "--graphml", "g", "--dot", "./g"]) == (
        "snncc inspect: error: --graphml and --dot are the same file (./g); give two names")
    assert tree(work) == before


def test_permission_denied_is_one_line(work, monkeypatch, capsys):
    """As root the checks cannot be provoked with chmod: os.access and the write itself are made to refuse."""
    (work / "locked").mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p).name == "locked" else real_access(p, mode))
    before = tree(work)
    assert refused(capsys, ["schema", "-o", "locked/schema.json"]) == (
        "snncc schema: error: -o locked/schema.json: cannot write in locked (permission denied)")
    assert refused(capsys, ["compile", "model.json", "-o", "locked"]) == (
        "snncc compile: error: -o locked: cannot write in it (permission denied)")
    assert tree(work) == before
    monkeypatch.setattr(os, "access", real_access)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    import snncc.fsutil

    monkeypatch.setattr(snncc.fsutil.tempfile, "mkstemp", denied)
    assert refused(capsys, ["inspect", "model.json", "--dot", "g.dot"]) == (
        "snncc inspect: error: --dot g.dot: cannot write: Permission denied")
    assert tree(work) == before


# --------------------------------------------------------------------------- run directories


def test_run_dir_refusals(work, capsys):
    (work / "mine").mkdir()
    (work / "mine" / "metrics.jsonl").write_text("{}\n")
    (work / "mine" / "thesis.tex").write_text("years of work\n")
    (work / "link").symlink_to(work / "mine")
    cases = {
        "mine": "--run-dir mine: holds thesis.tex, which snncc train did not write (a run directory holds only "
                "metrics.jsonl, checkpoint.bin, checkpoint.json, loss.png, accuracy.png, raster.png, program, work); "
                "choose a new directory",
        ".": "--run-dir .: holds model.json, which this command reads; choose a new directory",
        "notes.txt": "--run-dir notes.txt: is a file; give a directory",
        "notes.txt/run": "--run-dir notes.txt/run: notes.txt is a file, not a directory to write in",
        "link": "--run-dir link: is a symbolic link; snncc does not write through links: give the real path",
    }
    before = tree(work)
    for run_dir, message in cases.items():
        for backend in ("torch", "host"):
            argv = ["train", "model.json", "--backend", backend, "--epochs", "1", "--quiet", "--run-dir", run_dir]
            assert refused(capsys, argv) == f"snncc train: error: {message}", (run_dir, backend)
            assert tree(work) == before


def test_start_fresh_cleans_only_a_run_directory(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / METRICS).write_text("my metrics\n")
    (foreign / "data.csv").write_text("1,2\n")
    before = tree(tmp_path)
    with pytest.raises(UserError, match="holds data.csv, which snncc train did not write"):
        RunDir(foreign).start_fresh()
    assert tree(tmp_path) == before
    run = tmp_path / "run"
    run.mkdir()
    (run / METRICS).write_text('{"epoch": 1}\n')
    (run / "loss.png").write_bytes(b"png")
    (run / f".{METRICS}.abc.tmp").write_bytes(b"")  # left by a killed write
    RunDir(run).start_fresh()
    assert sorted(p.name for p in run.iterdir()) == [f".{METRICS}.abc.tmp"]


def test_host_training_refuses_a_foreign_program_directory(work, capsys):
    (work / "run" / "program").mkdir(parents=True)
    (work / "run" / "program" / "main.c").write_text("int main() {}\n")
    before = tree(work)
    assert refused(capsys, ["train", "model.json", "--epochs", "1", "--quiet", "--run-dir", "run"]) == (
        "snncc train: error: run/program: is not empty and was not written by snncc compile (no manifest.json); "
        "choose a new directory")
    assert tree(work) == before


# --------------------------------------------------------------------------- NIR


@pytest.fixture
def nir_file(work, capsys):
    assert main(["export-nir", "model.json", "-o", "net.nir"]) == 0
    capsys.readouterr()
    return work / "net.nir"


def test_export_nir_outputs(work, nir_file, capsys):
    assert main(["export-nir", "model.json", "-o", "net.nir"]) == 0  # its own earlier output
    capsys.readouterr()
    before = tree(work)
    assert refused(capsys, ["export-nir", "model.json", "-o", "model.json"]) == (
        "snncc export-nir: error: -o model.json: is model.json, which this command reads; choose another name")
    assert refused(capsys, ["export-nir", "model.json", "-o", "notes.txt"]) == (
        "snncc export-nir: error: -o notes.txt: exists and is not a NIR (HDF5) file, so not an earlier output of "
        "this command; choose another name or remove it")
    assert refused(capsys, ["export-nir", "model.json", "-o", "notes.txt/x.nir"]) == (
        "snncc export-nir: error: -o notes.txt/x.nir: notes.txt is a file, not a directory to write in")
    assert tree(work) == before


def test_import_nir_replaces_only_its_own_earlier_import(work, nir_file, capsys):
    assert main(["import-nir", "net.nir", "-o", "imported.json"]) == 0
    assert main(["import-nir", "net.nir", "-o", "imported.json", "--timesteps", "7"]) == 0  # its own: replaced
    assert json.loads((work / "imported.json").read_text())["timesteps"] == 7
    capsys.readouterr()
    (work / "orphan.arrays.npz").write_bytes(b"PK\x03\x04 my arrays")
    edited = json.loads((work / "imported.json").read_text())
    edited["description"] = "my network, tuned by hand"
    (work / "edited.json").write_text(json.dumps(edited))
    (work / "edited.arrays.npz").write_bytes((work / "imported.arrays.npz").read_bytes())
    before = tree(work)
    earlier = "so not an earlier output of this command; choose another name or remove it"
    assert refused(capsys, ["import-nir", "net.nir", "-o", "model.json"]) == (
        "snncc import-nir: error: -o model.json: exists and is not a model file written by snncc import-nir "
        f"(naming model.arrays.npz), {earlier}")
    assert refused(capsys, ["import-nir", "net.nir", "-o", "edited.json"]) == (
        "snncc import-nir: error: -o edited.json: exists and is not a model file written by snncc import-nir "
        f"(naming edited.arrays.npz), {earlier}")
    assert refused(capsys, ["import-nir", "net.nir", "-o", "orphan.json"]) == (
        "snncc import-nir: error: -o orphan.json: arrays file orphan.arrays.npz: exists and is not the arrays file "
        f"of an earlier snncc import-nir to orphan.json, {earlier}")
    assert refused(capsys, ["import-nir", "net.nir", "-o", "net.nir"]) == (
        "snncc import-nir: error: -o net.nir: is net.nir, which this command reads; choose another name")
    assert tree(work) == before


def test_a_full_disk_during_training_is_one_line(tmp_path, monkeypatch):
    import snncc.runs.rundir as rundir

    def full(path, data):
        raise OSError(28, "No space left on device")

    run = RunDir(tmp_path / "run")
    run.start_fresh()
    monkeypatch.setattr(rundir, "write_bytes_atomic", full)
    with pytest.raises(UserError) as caught:
        run.save_checkpoint(1, b"state")
    assert str(caught.value) == f"{run.checkpoint_path}: cannot write: No space left on device"
    assert list(run.path.iterdir()) == []
