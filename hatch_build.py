"""Build hook: installing snncc builds its host runtime library (C++, about 12 s on two
cores), so that the first `snncc train` only builds the model's own program.

The library goes to snncc/runtime/prebuilt/runtime-<hash>/ (editable installs: in the
source tree, which is git-ignored; wheels: into the wheel). snncc looks there before its
build cache and uses it only when the hash of the runtime's sources, the compiler and the
CPU still match (snncc/runtime/build.py, runtime_library), so a stale or foreign library is
never used. Without CMake or a C++ compiler, or with SNNCC_NO_PREBUILD=1, nothing is built
and snncc builds the library on first use instead.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

ROOT = Path(__file__).resolve().parent


def _build_module():
    # by path: the build environment has hatchling only, not snncc's dependencies
    spec = importlib.util.spec_from_file_location("_snncc_runtime_build", ROOT / "snncc" / "runtime" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RuntimeBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel" or os.environ.get("SNNCC_NO_PREBUILD") == "1":
            return
        build = _build_module()
        editable = version == "editable"
        dest = build.PREBUILT_DIR if editable else Path(tempfile.mkdtemp(prefix="snncc-prebuilt-"))
        try:
            out = build.prebuild_runtime(dest)
        except Exception as exc:  # noqa: BLE001 - any failure only means "build it later"
            self.app.display_warning(f"snncc: the host runtime library was not prebuilt ({exc}); "
                                     "snncc builds it on first use")
            return
        self.app.display_info(f"snncc: host runtime library prebuilt in {out}")
        if not editable:
            for f in out.iterdir():
                build_data["force_include"][str(f)] = f"snncc/runtime/prebuilt/{out.name}/{f.name}"
