"""The runtime library that installing snncc builds (hatch_build.py): used only when its
content hash (runtime sources, settings, compiler, CPU) matches, else built in the cache."""

from __future__ import annotations

from pathlib import Path

from snncc.runtime import build


def _digest(native: bool = True) -> str:
    return build.content_hash(build.runtime_dir(), build._build_settings("Release", native))


def _fake_install(root: Path, digest: str) -> Path:
    d = root / f"runtime-{digest[:16]}"
    d.mkdir(parents=True)
    (d / "libsnncc_poplar_host.a").write_bytes(b"!<arch>\n")
    (d / ".snncc-build-ok").write_text(digest + "\n")
    return d / "libsnncc_poplar_host.a"


def test_matching_installed_library_is_used(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "PREBUILT_DIR", tmp_path)
    lib = _fake_install(tmp_path, _digest())
    assert build.runtime_library() == lib


def test_stale_installed_library_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "PREBUILT_DIR", tmp_path)
    stale = _fake_install(tmp_path, "0" * 64)  # other sources or another CPU
    lib = build.runtime_library()
    assert lib != stale and lib.parent.parent == build.default_cache_root() and lib.is_file()


def test_native_builds_are_tied_to_the_cpu(monkeypatch):
    here = _digest()
    monkeypatch.setattr(build, "_cpu_identity", lambda: b"another cpu")
    assert _digest() != here
    assert _digest(native=False) == _digest(native=False)  # portable builds do not depend on it
    monkeypatch.undo()
    assert _digest() == here


def test_the_installed_library_does_not_change_the_sources_hash(tmp_path):
    """prebuilt/ (and build/, __pycache__/) are not runtime sources: installing a library
    into the runtime directory must not change the hash it is looked up by."""
    files = {p.relative_to(build.runtime_dir()).parts[0] for p in build._files(build.runtime_dir())}
    assert "prebuilt" not in files and "include" in files and "src" in files


def test_build_hash_covers_build_inputs_only(tmp_path):
    """A build directory's plan.json, model.json, train.py or README do not change its
    binary, so they do not cause a rebuild; its sources and CMakeLists.txt do."""
    (tmp_path / "CMakeLists.txt").write_text("project(x)\n")
    (tmp_path / "program.cpp").write_text("int main() {}\n")
    first = build.content_hash(tmp_path, [])
    for name in ("model.json", "plan.json", "train.py", "README.md", "arrays.npz"):
        (tmp_path / name).write_text("anything")
    assert build.content_hash(tmp_path, []) == first
    (tmp_path / "program.cpp").write_text("int main() { return 1; }\n")
    assert build.content_hash(tmp_path, []) != first
