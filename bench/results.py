"""Every HTTP run leaves its figures where the next one can be compared with
it: a JSON file under ``bench/results/`` (the machine, its load before the
run, the versions, every row with its raw figures) and the table in
``docs/performance.md`` between the markers ``<!-- bench:http -->`` and
``<!-- /bench:http -->`` (the rest of that page is not touched).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import socket
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.report import Row
from bench.server import ROOT

RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:http -->", "<!-- /bench:http -->"
PACKAGES = ("eventsourcing", "fastapi", "starlette", "uvicorn", "uvloop", "httptools")


def machine(busy_before: float, postgresql: str) -> dict[str, Any]:
    """What ran the figures: CPU, cores, load before the run, versions."""
    model = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "host": socket.gethostname(),
        "cpu": model,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "busy_before": round(busy_before, 3),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgresql,
        "commit": _commit(),
        **{name: _version(name) for name in PACKAGES},
    }


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def row_record(row: Row) -> dict[str, Any]:
    """One row's raw figures (the JSON file's)."""
    record: dict[str, Any] = {
        "backend": row.backend,
        "measurement": row.measurement,
        "clients": row.concurrency,
        "note": row.note,
    }
    s = row.sample
    if s is not None:
        record |= {
            "ok": s.ok,
            "failed": s.failed,
            "seconds": round(s.seconds, 3),
            "ops_per_s": round(s.rate, 1),
            "events_per_s": round(s.events_rate, 1),
            "p50_ms": round(s.percentile_ms(50), 3),
            "p99_ms": round(s.percentile_ms(99), 3),
            "x_library_1_per_save": _ratio(s.rate, row.library_rate),
            "server_cpu_s": s.server_cpu,
            "server_us_per_op": _per_op(s.server_cpu, s.ok),
            "bench_cpu_s": round(s.client_cpu, 3),
            "bench_us_per_op": _per_op(s.client_cpu, s.ok),
            "host_busy": s.host_busy,
        }
    return record


def _ratio(rate: float, library: float | None) -> float | None:
    return round(rate / library, 3) if library else None


def _per_op(cpu: float | None, ok: int) -> float | None:
    return round(cpu / ok * 1e6, 1) if cpu is not None and ok else None


def write_json(facts: dict[str, Any], rows: list[Row]) -> Path:
    """``bench/results/<date>-http.json``; its path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = RESULTS / f"{stamp}-http.json"
    body = {"machine": facts, "rows": [row_record(r) for r in rows]}
    path.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n")
    return path


def markdown(facts: dict[str, Any], rows: list[Row], source: Path) -> str:
    """The run's table for docs/performance.md, with the machine above it."""
    load = " ".join(f"{x:.2f}" for x in facts["load_average_before"])
    lines = [
        f"Run of {facts['date']} (commit {facts['commit']}; `{source.name}` in "
        f"`bench/results/`): {facts['cpu']}, {facts['cores']} cores "
        f"({facts['usable_cores']} usable), load average {load} and "
        f"{facts['busy_before']:.0%} of all cores busy before the run — the host "
        "is shared with other sessions' work, so compare ratios within this "
        f"run, not figures across runs. Python {facts['python']}, SQLite "
        f"{facts['sqlite']}, PostgreSQL {facts['postgresql']}, eventsourcing "
        f"{facts['eventsourcing']}, uvicorn {facts['uvicorn']}, uvloop "
        f"{facts['uvloop']}, FastAPI {facts['fastapi']}.",
        "",
        "| backend | measurement | clients | ops/s | p50 ms | p99 ms "
        "| × library 1/save | server µs CPU/op | server CPU | bench CPU | host |",  # noqa: RUF001
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        r = row_record(row)
        if row.sample is None:
            lines.append(f"| {row.backend} | {row.measurement} | | | | | | | | | |")
            continue
        s = row.sample
        cells = [
            row.backend,
            row.measurement,
            str(row.concurrency or ""),
            f"{s.rate:,.0f}",
            f"{r['p50_ms']:.2f}",
            f"{r['p99_ms']:.2f}",
            "—" if r["x_library_1_per_save"] is None
            else f"{r['x_library_1_per_save']:.2f}",
            "—" if r["server_us_per_op"] is None else f"{r['server_us_per_op']:,.0f}",
            _share(s.server_cpu, s.seconds),
            _share(s.client_cpu, s.seconds),
            "—" if s.host_busy is None else f"{s.host_busy:.0%}",
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _share(cpu: float | None, seconds: float) -> str:
    return "—" if cpu is None or not seconds else f"{cpu / seconds:.0%}"


def write_doc(table: str, doc: Path = DOC, name: str = "http") -> bool:
    """Put ``table`` between the markers ``<!-- bench:NAME -->`` and
    ``<!-- /bench:NAME -->`` of ``doc``; False (nothing written) when the
    markers are not there."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = doc.read_text()
    if begin not in text or end not in text:
        return False
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    doc.write_text(f"{head}{begin}\n{table}\n{end}{tail}")
    return True
