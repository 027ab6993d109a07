"""The README's set-up commands and CI agree."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_starts_with_two_commands():
    commands = readme_commands()
    assert len(commands) == 2
    main_job, tests = commands
    assert "pip install torch==2.13.0" in main_job and "examples/digits.json" in main_job
    assert "pip install torch==2.13.0" in tests and "pytest" in tests


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci
