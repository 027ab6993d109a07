"""Codelets stay pure Poplar; build.py reports failures by stage, log and first error."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from snncc.runtime import BuildError, build_cmake_project, runtime_dir
from snncc.runtime import build as build_module

CODELETS = Path(__file__).resolve().parent / "programs" / "codelets"
STRICT = ["g++", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-Wdouble-promotion", "-fsyntax-only"]


def test_codelets_compile_with_poplibs_warnings(tmp_path):
    r = subprocess.run([*STRICT, "-I", str(runtime_dir() / "include"), str(CODELETS / "snn_test.cpp")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_double_promotion_in_a_codelet_is_an_error(tmp_path):
    bad = tmp_path / "bad.cpp"
    bad.write_text(
        "#include <poplar/Vertex.hpp>\n"
        "class Bad : public poplar::Vertex {\npublic:\n  poplar::InOut<float> x;\n"
        "  void compute() { *x = *x * 0.5; }\n};\n"
    )
    r = subprocess.run([*STRICT, "-I", str(runtime_dir() / "include"), str(bad)], capture_output=True, text=True)
    assert r.returncode != 0 and "double-promotion" in r.stderr


def test_vertex_header_brings_no_containers():
    # -H lists every header a codelet includes through poplar/Vertex.hpp.
    r = subprocess.run(["g++", "-std=c++17", "-H", "-fsyntax-only", "-I", str(runtime_dir() / "include"),
                        str(CODELETS / "snn_test.cpp")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    headers = [ln.lstrip(". ").strip() for ln in r.stderr.splitlines() if ln.startswith(".")]
    assert any(h.endswith("poplar/Vertex.hpp") for h in headers)
    for forbidden in ("stl_vector.h", "stl_map.h", "basic_string.h", "stl_list.h", "unordered_map", "stl_deque.h"):
        assert not any(h.endswith(forbidden) for h in headers), forbidden


def _project(tmp_path: Path, cmake: str, source: str) -> Path:
    d = tmp_path / "proj"
    d.mkdir()
    (d / "CMakeLists.txt").write_text(cmake)
    (d / "main.cpp").write_text(source)
    return d


def test_configure_failure_names_stage_log_and_error(tmp_path):
    proj = _project(tmp_path, "cmake_minimum_required(VERSION 3.16)\nproject(p)\nnot_a_command()\n", "")
    with pytest.raises(BuildError) as e:
        build_cmake_project(proj, cache_root=tmp_path / "cache")
    assert e.value.stage == "cmake configure"
    assert e.value.log_path.is_file() and "not_a_command" in e.value.log_path.read_text()
    assert "CMake Error" in e.value.first_error
    assert "cmake configure failed" in str(e.value) and str(e.value.log_path) in str(e.value)


def test_compile_failure_names_the_first_compiler_error(tmp_path):
    # No runtime needed to fail in the build stage (keeps this test fast).
    cmake = "cmake_minimum_required(VERSION 3.16)\nproject(p LANGUAGES CXX)\nadd_executable(main main.cpp)\n"
    proj = _project(tmp_path, cmake, "int main() { return undefined_name; }\n")
    with pytest.raises(BuildError) as e:
        build_cmake_project(proj, cache_root=tmp_path / "cache")
    assert e.value.stage == "build"
    assert "main.cpp" in e.value.first_error and "undefined_name" in e.value.first_error


def test_an_identical_project_builds_after_a_failed_build_of_its_copy(tmp_path):
    # The cache is keyed by content: a copy elsewhere shares the build tree that a failed
    # (or killed) build of the first copy left configured for that first directory.
    cmake = ("cmake_minimum_required(VERSION 3.16)\nproject(p LANGUAGES CXX)\n"
             "add_executable(main main.cpp)\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = _project(tmp_path / "a", cmake, "int main() { return 0; }\n")
    second = _project(tmp_path / "b", cmake, "int main() { return 0; }\n")
    cache = tmp_path / "cache"
    built = build_cmake_project(first, cache_root=cache)
    (built / build_module._OK_MARKER).unlink()  # as if the build had died before the end
    assert build_cmake_project(second, cache_root=cache) == built
    assert subprocess.run([str(built / "main")]).returncode == 0
