"""Configure and build a CMake project against snncc's host runtime, cached by content.

The project's CMakeLists.txt gets ``SNNCC_RUNTIME_DIR`` (this directory) and
adds it with ``add_subdirectory(${SNNCC_RUNTIME_DIR} snncc_runtime)``, then links
``snncc_poplar_host``. The build directory is named after a hash of the
project's files, the runtime's sources and the build settings, so an unchanged
project is built once and reused (also across processes: a file lock
serialises concurrent builds of the same project).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

_RUNTIME_DIR = Path(__file__).resolve().parent
_RUNTIME_SOURCES = ("CMakeLists.txt", "include", "src")
#: where installing snncc puts the runtime library it built (hatch_build.py): looked up
#: before the build cache, under the same content-hashed name
PREBUILT_DIR = _RUNTIME_DIR / "prebuilt"
_LIBRARY = "libsnncc_poplar_host.a"
_OK_MARKER = ".snncc-build-ok"
# The first line that looks like a compiler, linker or CMake error.
_ERROR_LINE = re.compile(r"(?:\berror\b|\bError\b|undefined reference)")


class BuildError(RuntimeError):
    """A failed stage of a CMake build, with its log and first error line."""

    def __init__(self, stage: str, project: Path, log_path: Path, first_error: str):
        self.stage = stage
        self.project = project
        self.log_path = log_path
        self.first_error = first_error
        super().__init__(f"{stage} failed for {project}: {first_error}\n  full log: {log_path}")


def runtime_dir() -> Path:
    """The runtime's CMake project (include/, src/, CMakeLists.txt)."""
    return _RUNTIME_DIR


def default_cache_root() -> Path:
    """$SNNCC_CACHE_DIR, else ~/.cache/snncc/builds."""
    env = os.environ.get("SNNCC_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "snncc" / "builds"


def _hash_tree(h: "hashlib._Hash", root: Path, paths: Iterable[Path]) -> None:
    for path in sorted(paths):
        if path.is_file():
            h.update(str(path.relative_to(root)).encode() + b"\0")
            h.update(path.read_bytes() + b"\0")


def _files(root: Path) -> list[Path]:
    skip = {"build", "__pycache__", ".git", "prebuilt"}
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip]
        out.extend(Path(dirpath) / f for f in filenames)
    return out


#: the files of a project that its build reads (CMakeLists.txt among them); the rest of a
#: build directory (plan.json, model.json, train.py, README.md, ...) does not change the binary
BUILD_INPUTS = (".c", ".cc", ".cpp", ".h", ".hpp", ".inc", ".cmake", ".txt")


def _build_settings(build_type: str, native: bool) -> list[str]:
    """The CMake settings every build passes (and its hash covers)."""
    return [f"-DCMAKE_BUILD_TYPE={build_type}", f"-DSNNCC_NATIVE={'ON' if native else 'OFF'}"]


def content_hash(source_dir: Path, settings: Sequence[str]) -> str:
    """Hash of the project's build inputs, the runtime's sources and the settings."""
    h = hashlib.sha256()
    _hash_tree(h, source_dir, [f for f in _files(source_dir) if f.suffix in BUILD_INPUTS])
    for name in _RUNTIME_SOURCES:
        p = _RUNTIME_DIR / name
        _hash_tree(h, _RUNTIME_DIR, _files(p) if p.is_dir() else [p])
    h.update("\0".join(settings).encode())
    h.update((os.environ.get("CXX", "") + "\0" + (shutil.which("c++") or "")).encode())
    # the runtime links MPI when CMake finds it (replicas): a build without must not be reused with
    h.update(("\0mpi:" + (shutil.which("mpicxx") or "")).encode())
    if "-DSNNCC_NATIVE=ON" in settings:
        h.update(_cpu_identity())  # -march=native code must not run on another CPU
    return h.hexdigest()


def _cpu_identity() -> bytes:
    """The CPU's model and feature flags (Linux), else the machine type."""
    try:
        lines = Path("/proc/cpuinfo").read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    keys = ("model name", "flags", "Features", "CPU part")
    wanted = [ln for ln in lines if ln.split(":", 1)[0].strip() in keys]
    return ("\n".join(dict.fromkeys(wanted)) or platform.machine()).encode()


def _first_error(log: str) -> str:
    for line in log.splitlines():
        if _ERROR_LINE.search(line):
            return line.strip()
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    return lines[-1] if lines else "(empty log)"


def _run(stage: str, cmd: list[str], project: Path, log_path: Path) -> None:
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log_path.write_text("$ " + " ".join(cmd) + "\n" + proc.stdout)
    if proc.returncode != 0:
        raise BuildError(stage, project, log_path, _first_error(proc.stdout))


def build_cmake_project(
    source_dir: str | os.PathLike,
    *,
    cache_root: str | os.PathLike | None = None,
    build_type: str = "Release",
    native: bool = True,
    cmake_args: Sequence[str] = (),
    jobs: int | None = None,
    prebuilt_runtime: bool = False,
) -> Path:
    """Build a CMake project against the host runtime; return its build directory.

    ``build_type`` Release compiles with -O3; ``native`` adds -march=native.
    ``prebuilt_runtime`` builds the runtime library once (cached like any project) and
    passes ``-DSNNCC_RUNTIME_LIB=<its libsnncc_poplar_host.a>`` so that the project can
    import it instead of compiling the runtime again (generated programs do).
    Raises BuildError naming the stage ("cmake configure" or "build"), the log
    file and the first error line.
    """
    source = Path(source_dir).resolve()
    if not (source / "CMakeLists.txt").is_file():
        raise FileNotFoundError(f"{source}: no CMakeLists.txt")
    settings = [*_build_settings(build_type, native), *cmake_args]
    if prebuilt_runtime:
        lib = runtime_library(build_type=build_type, native=native, jobs=jobs)
        settings.append(f"-DSNNCC_RUNTIME_LIB={lib}")
    digest = content_hash(source, settings)
    root = Path(cache_root) if cache_root is not None else default_cache_root()
    root.mkdir(parents=True, exist_ok=True)
    build_dir = root / f"{source.name}-{digest[:16]}"
    if (build_dir / _OK_MARKER).is_file():
        return build_dir
    with open(root / f"{source.name}-{digest[:16]}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it
        if (build_dir / _OK_MARKER).is_file():
            return build_dir
        # Left by a build that failed or was killed, possibly of an identical copy of the
        # project elsewhere (CMake refuses a build tree configured for another source
        # directory): the cache's own files, started afresh.
        if build_dir.exists():
            shutil.rmtree(build_dir)
        build_dir.mkdir()
        configure = [
            "cmake",
            "-S",
            str(source),
            "-B",
            str(build_dir),
            f"-DSNNCC_RUNTIME_DIR={_RUNTIME_DIR}",
            *settings,
        ]
        _run("cmake configure", configure, source, build_dir / "cmake-configure.log")
        n = jobs or max(1, min(os.cpu_count() or 1, 8))
        _run("build", ["cmake", "--build", str(build_dir), "-j", str(n)], source, build_dir / "build.log")
        (build_dir / _OK_MARKER).write_text(digest + "\n")
    return build_dir


def runtime_library(build_type: str = "Release", native: bool = True, jobs: int | None = None) -> Path:
    """The runtime's static library: the one installed with snncc when it matches the
    sources, settings, compiler and CPU, else built once in the build cache."""
    digest = content_hash(_RUNTIME_DIR, _build_settings(build_type, native))
    installed = PREBUILT_DIR / f"{_RUNTIME_DIR.name}-{digest[:16]}"
    if (installed / _OK_MARKER).is_file() and (installed / _LIBRARY).is_file():
        return installed / _LIBRARY
    return build_cmake_project(_RUNTIME_DIR, cache_root=default_cache_root(), build_type=build_type,
                               native=native, jobs=jobs) / _LIBRARY


def prebuild_runtime(dest: Path) -> Path:
    """Build the runtime library (Release, native) into dest/<name>-<hash>/ with only the
    library and its marker: what installing snncc ships (hatch_build.py). Returns that directory."""
    with tempfile.TemporaryDirectory(prefix="snncc-runtime-") as tmp:
        built = build_cmake_project(_RUNTIME_DIR, cache_root=Path(tmp))
        out = dest / built.name
        for old in dest.glob(f"{_RUNTIME_DIR.name}-*"):  # libraries of earlier sources
            if old != out:
                shutil.rmtree(old, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built / _LIBRARY, out / _LIBRARY)
        shutil.copy2(built / _OK_MARKER, out / _OK_MARKER)
    return out
