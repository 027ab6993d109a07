"""Only training changes the process environment (OMP_WAIT_POLICY, for torch's threads)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_commands_leave_the_environment_alone():
    """Importing every subcommand, as `snncc` does whichever one runs, sets nothing."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env["PYTHONPATH"] = str(ROOT)
    code = "import os, snncc.cli; snncc.cli.build_parser(); print(os.environ.get('OMP_WAIT_POLICY'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "None"
