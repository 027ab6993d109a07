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


def _tracked_text_files():
    import subprocess

    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in names:
        path = ROOT / name
        if path.suffix in {".py", ".md", ".j2", ".hpp", ".cpp", ".h", ".txt", ".toml", ".json", ""} and path.is_file():
            try:
                yield name, path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue


def test_nothing_points_outside_the_repository():
    """A clone stands alone: docs, comments and tests cite files inside it."""
    import re

    outside = re.compile(r"\.\./shared|shared/reference|shared/STYLE|DESIGN\.md")
    found = [f"{name}:{i}" for name, text in _tracked_text_files()
             for i, line in enumerate(text.splitlines(), 1) if outside.search(line)
             and name != "tests/test_repository.py"]
    assert not found, found


def test_relative_links_in_the_docs_resolve():
    import re

    broken = []
    for name, text in _tracked_text_files():
        if not name.endswith(".md"):
            continue
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target or target.startswith("mailto:"):
                continue
            resolved = ((ROOT / name).parent / target).resolve()
            if not resolved.exists() or ROOT not in (resolved, *resolved.parents):
                broken.append(f"{name}: {target}")
    assert not broken, broken
