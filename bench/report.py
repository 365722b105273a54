"""The plain-text table: one row per measurement, printed as it is made."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.measure import Sample

COLUMNS: tuple[tuple[str, int], ...] = (
    ("backend", 8),
    ("measurement", 22),
    ("conc", 4),
    ("n", 7),
    ("fail", 4),
    ("ops/s", 8),
    ("events/s", 8),
    ("p50 ms", 7),
    ("p99 ms", 7),
    ("x lib1", 6),
    ("srv cpu", 7),
    ("bench cpu", 9),
    ("host", 5),
    ("srv µs/op", 9),
)

LEGEND = (
    "ops/s: saves/s (library) or expected responses/s (HTTP: 201 for a "
    "submission, 200 for /healthz, the HTTP stack's own reference); events/s: events "
    "appended per second (HTTP: the log position's advance); x lib1: ops/s over "
    "the library's one-event-per-save saves/s on the same backend; srv cpu / "
    "bench cpu: CPU used by the server (its process and every process below "
    "it: workers, the follower) / this process, in % of one core; host: share "
    "of all cores busy (PostgreSQL included); srv µs/op: the server's CPU per "
    "expected response."
)


@dataclass
class Findings:
    """Lines for below the table; ``failed`` makes the run exit non-zero."""

    lines: list[str] = field(default_factory=list)
    failed: bool = False

    def note(self, text: str) -> None:
        self.lines.append(f"note: {text}")

    def fail(self, text: str) -> None:
        self.lines.append(f"FAILED: {text}")
        self.failed = True

    def __iadd__(self, other: Findings) -> Findings:
        self.lines += other.lines
        self.failed = self.failed or other.failed
        return self


@dataclass(frozen=True)
class Row:
    """One line of the table: a measurement, or why there is none."""

    backend: str
    measurement: str
    concurrency: int | None = None
    sample: Sample | None = None
    library_rate: float | None = None  # the one-event-per-save saves/s
    note: str = ""

    def cells(self) -> list[str]:
        head = [self.backend, self.measurement, _opt(self.concurrency)]
        s = self.sample
        if s is None:
            return head
        return [
            *head,
            str(s.ok),
            str(s.failed),
            f"{s.rate:.0f}",
            f"{s.events_rate:.0f}",
            f"{s.percentile_ms(50):.2f}",
            f"{s.percentile_ms(99):.2f}",
            f"{s.rate / self.library_rate:.2f}" if self.library_rate else "-",
            _share(s.server_cpu, s.seconds),
            _share(s.client_cpu, s.seconds),
            f"{s.host_busy * 100:.0f}%" if s.host_busy is not None else "-",
            _per_op(s.server_cpu, s.ok),
        ]


def _opt(value: int | None) -> str:
    return "-" if value is None else str(value)


def _share(cpu: float | None, seconds: float) -> str:
    return "-" if cpu is None or not seconds else f"{cpu / seconds * 100:.0f}%"


def _per_op(cpu: float | None, ok: int) -> str:
    return "-" if cpu is None or not ok else f"{cpu / ok * 1e6:.0f}"


def header() -> str:
    names = [name for name, _ in COLUMNS]
    return _line(names) + "\n" + _line(["-" * width for _, width in COLUMNS])


def format_row(row: Row) -> str:
    cells = row.cells()
    line = _line(cells)
    return f"{line}  {row.note}".rstrip() if row.note else line


def _line(cells: list[str]) -> str:
    parts = []
    for i, cell in enumerate(cells):
        width = COLUMNS[i][1]
        parts.append(cell.ljust(width) if i < 2 else cell.rjust(width))
    return "  ".join(parts).rstrip()
