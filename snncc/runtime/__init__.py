"""snncc's Poplar-compatible host runtime (C++ sources) and its build driver."""

from snncc.runtime.build import BuildError, build_cmake_project, runtime_dir

__all__ = ["BuildError", "build_cmake_project", "runtime_dir"]
