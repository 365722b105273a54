"""The layout is a checked contract (README, Layout): import-linter keeps the
arrows pointing down, and the rooms stay small enough to read.

The contract tests run ``lint-imports`` on a copy of the code with one
deliberate back-import each, so a contract that cannot fail (a typo in a
module name, a layer left out) fails here instead of passing quietly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "infra", "projections", "services")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
MAX_LINES = 400  # STYLE.md: past ~300 a file holds two things; 400 is the bound
MAX_MODULES = 12  # per sub-package of services/


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={**os.environ, "COLUMNS": "400"},  # one line per contract
        capture_output=True,
        text=True,
        timeout=120,
    )


def broken_contracts(output: str) -> list[str]:
    return [line for line in output.splitlines() if " BROKEN" in line]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the code and its contracts, to break on purpose."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_code_keeps_every_contract(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert broken_contracts(result.stdout) == []
    assert "Contracts: 4 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "back_import", "broken"),
    [
        ("domain/case.py", "import services.errors", "domain imports nothing"),
        ("domain/case.py", "import infra.settings", "domain imports nothing"),
        ("projections/counts.py", "import services.bootstrap", "projections import"),
        ("services/kafka/relay.py", "import services.http.app", "The doors do not"),
        ("services/http/cases.py", "import services.cli.main", "The doors do not"),
        ("services/privacy/rights.py", "import services.bootstrap", "Arrows point"),
        ("services/audit/log.py", "import services.submission.service", "Arrows"),
        ("services/errors.py", "import services.audit.log", "Arrows point down"),
        ("infra/settings.py", "import projections.base", "Arrows point down"),
    ],
)
def test_a_back_import_breaks_a_contract(
    tree: Path, module: str, back_import: str, broken: str
) -> None:
    with (tree / module).open("a") as source:
        source.write(f"\n{back_import}  # noqa: E402, F401\n")
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout
    broken_ones = broken_contracts(result.stdout)
    assert any(line.startswith(broken) for line in broken_ones), result.stdout


def test_no_module_is_over_the_bound() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these (over {MAX_LINES} lines): {long}"


def test_every_room_is_small_and_says_what_it_is_for() -> None:
    rooms = [p for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists()]
    assert {room.name for room in rooms} >= {"http", "cli", "kafka", "submission"}
    for room in rooms:
        modules = [p for p in room.glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= MAX_MODULES, f"{room.name}: {len(modules)} modules"
        docstring = (room / "__init__.py").read_text(encoding="utf-8").strip()
        assert docstring.startswith('"""') and "import" in docstring.lower(), room.name
