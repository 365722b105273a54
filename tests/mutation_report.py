"""The mutation score per module, after ``mutmut run`` (``make mutation``).

Reads mutmut's own results (``mutants/**/*.py.meta``: one exit code per
mutant) and prints one line per mutated module: mutants made, killed,
survived, no tests (no selected test reaches the function: a survivor too),
timeouts, equivalent (survivors named in docs/testing.md as unable to change
behaviour), the survivors left to account for, and the seconds its mutants'
tests took (mutmut's own timing, summed: where a run's time goes). Run it
from the checkout's root with the venv's python:
``.venv/bin/python tests/mutation_report.py``.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
EQUIVALENTS = ROOT / "docs" / "testing.md"
MUTANT_NAME = re.compile(r"[\w.ǁ]+__mutmut_\d+")
COLUMNS = ("made", "killed", "survived", "no tests", "timeout", "other")


def equivalent_mutants() -> set[str]:
    """Mutant names docs/testing.md lists as equivalent: those in its
    "Equivalent mutants" section only (names elsewhere are survivors left)."""
    if not EQUIVALENTS.exists():
        return set()
    text = EQUIVALENTS.read_text(encoding="utf-8")
    section = text.partition("\n## Equivalent mutants")[2].partition("\n## ")[0]
    return set(MUTANT_NAME.findall(section))


def module_counts(meta: Path, equivalent: set[str]) -> Counter[str]:
    results = json.loads(meta.read_text())
    exit_codes: dict[str, int | None] = results["exit_code_by_key"]
    durations: dict[str, float] = results.get("durations_by_key", {})
    counts: Counter[str] = Counter(made=len(exit_codes))
    counts["test s"] = round(sum(durations.get(name, 0.0) for name in exit_codes))
    for name, code in exit_codes.items():
        status = status_by_exit_code[code]
        counts[status if status in COLUMNS else "other"] += 1
        if status in ("survived", "no tests"):
            counts["equivalent" if name in equivalent else "left"] += 1
    return counts


def main() -> int:
    metas = sorted(MUTANTS.rglob("*.py.meta"))
    if not metas:
        print("no results under mutants/: run `make mutation` first")
        return 1
    equivalent = equivalent_mutants()
    header = (*COLUMNS, "equivalent", "left", "test s")
    print(f"{'module':<36}" + "".join(f"{h:>11}" for h in header))
    total: Counter[str] = Counter()
    for meta in metas:
        counts = module_counts(meta, equivalent)
        if not counts["made"]:
            continue
        total += counts
        module = str(meta.relative_to(MUTANTS)).removesuffix(".meta")
        print(f"{module:<36}" + "".join(f"{counts[h]:>11}" for h in header))
    print(f"{'total':<36}" + "".join(f"{total[h]:>11}" for h in header))
    checked = total["made"] - total["equivalent"]
    if checked:
        score = 100 * (total["killed"] + total["timeout"]) / checked
        print(f"score (killed + timeout) / (made - equivalent): {score:.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
