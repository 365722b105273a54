"""``boende import FILE.ndjson``: a case system's history into a running
Boende, through the bulk door (``POST /v1/submissions/batch``).

The file holds one envelope per line (``boende simulate --out`` writes one),
oldest first. It is sent in order, in chunks of ``--chunk`` lines; a chunk
also ends where the token changes (each committee's envelopes go with its
own case system's token, as ``boende simulate`` sends them: ``--token`` once
per committee, or in development a minted ``case_system`` token each). The
server decides every envelope as if it came alone, so a chunk may hold a
filing and its grant.

What the server says is safe to retry is retried: a whole chunk answered
503 or not answered at all, and within a chunk every envelope from the
first one ``unavailable`` or ``concurrent_update`` on (those before it are
settled; those after it may depend on it). A repeat is answered from its
first result, so running the import again records nothing twice: every line
is then a repeat.

At the end, a summary: lines recorded, repeats, refusals by code, and the
first few refusals by line number and code (never the line's content: it
holds personal data). Exit status 0 when nothing was refused, 1 when
something was, 2 when the import could not run (no file, no server, a
token or a body the server refused as a whole).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from infra.progress import progress
from infra.settings import Settings
from services.cli.parsing import Commands, command
from services.simulation.behaviour import api_address
from services.simulation.tokens import committee_tokens, token_for

BATCH = "/v1/submissions/batch"
RETRIES = 5
BACKOFF_S = 0.2
RETRYABLE = frozenset({"unavailable", "concurrent_update"})
SHOWN_REFUSALS = 10


class ImportStopped(Exception):
    """The server refused a chunk as a whole: nothing more can be sent."""


@dataclass(frozen=True)
class Line:
    """One envelope of the file: where it is, its bytes, its token."""

    number: int
    raw: bytes
    token: str | None


@dataclass
class Tally:
    """What the server answered, line by line."""

    recorded: int = 0
    repeats: int = 0
    refusals: Counter[str] = field(default_factory=Counter)
    first_refused: list[str] = field(default_factory=list)
    requests: int = 0
    retries: int = 0

    def add(self, line: Line, result: Mapping[str, Any]) -> None:
        outcome = result.get("outcome")
        if outcome == "recorded":
            self.recorded += 1
        elif outcome == "repeat":
            self.repeats += 1
        else:
            code = str(result.get("error", "unknown"))
            self.refusals[code] += 1
            if len(self.first_refused) < SHOWN_REFUSALS:
                self.first_refused.append(
                    f"line {line.number}: {result.get('status')} {code}"
                )

    @property
    def refused(self) -> int:
        return sum(self.refusals.values())

    def report(self, seconds: float) -> str:
        lines = [
            f"imported {self.recorded + self.repeats + self.refused} lines in "
            f"{seconds:.1f} s ({self.requests} requests, {self.retries} retries): "
            f"{self.recorded} recorded, {self.repeats} repeats, "
            f"{self.refused} refused",
        ]
        if self.refusals:
            codes = ", ".join(f"{c} {n}" for c, n in sorted(self.refusals.items()))
            lines.append(f"  refusals: {codes}")
            lines += [f"    {where}" for where in self.first_refused]
        return "\n".join(lines)


def read_lines(path: Path, tokens: Mapping[str, str]) -> Iterator[Line]:
    """The file's non-blank lines, each with the token to send it with."""
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            stripped = raw.strip()
            if stripped:
                yield Line(number, stripped, token_for(tokens, _envelope(stripped)))


def _envelope(raw: bytes) -> dict[str, Any]:
    """The line as JSON, only to see its committee; anything else is sent
    as it is, for the server to refuse."""
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def chunks(lines: Iterator[Line], size: int) -> Iterator[list[Line]]:
    """Consecutive lines, at most ``size``, all with one token."""
    chunk: list[Line] = []
    for line in lines:
        if chunk and (len(chunk) == size or line.token != chunk[0].token):
            yield chunk
            chunk = []
        chunk.append(line)
    if chunk:
        yield chunk


class Importer:
    """Sends chunks to the bulk door and tallies the answers."""

    def __init__(self, client: httpx.Client, tally: Tally) -> None:
        self.client = client
        self.tally = tally

    def send(self, chunk: list[Line]) -> None:
        """Every line of ``chunk`` answered (retrying what may be retried)."""
        pending, attempt = chunk, 0
        recorded_before: set[int] = set()  # by an attempt whose answer is resent
        while pending:
            status, body = self._post(pending)
            if status == 413 and isinstance(body.get("max_envelopes"), int):
                cap = max(1, int(body["max_envelopes"]))  # the server's own cap
                for start in range(0, len(pending), cap):
                    self.send(pending[start : start + cap])
                return
            if status != 200:
                if status not in (0, 503) or attempt == RETRIES:
                    raise ImportStopped(_why(status, body))
                attempt = self._pause(attempt)
                continue
            results = body["results"]
            again = _first_retryable(results) if attempt < RETRIES else None
            for line, result in zip(pending, results, strict=True):
                if result.get("outcome") == "recorded":
                    recorded_before.add(line.number)
            for line, result in zip(pending[:again], results[:again], strict=True):
                if line.number in recorded_before:
                    result = {**result, "outcome": "recorded"}
                self.tally.add(line, result)
            if again is None:
                return
            pending, attempt = pending[again:], self._pause(attempt)

    def _post(self, lines: list[Line]) -> tuple[int, dict[str, Any]]:
        self.tally.requests += 1
        headers = {"Content-Type": "application/x-ndjson"}
        if lines[0].token:
            headers["Authorization"] = lines[0].token
        content = b"".join(line.raw + b"\n" for line in lines)
        try:
            response = self.client.post(BATCH, content=content, headers=headers)
        except httpx.TransportError:
            return 0, {"error": "no_answer", "message": "the server did not answer"}
        try:
            body = response.json()
        except ValueError:
            body = {}
        return response.status_code, body if isinstance(body, dict) else {}

    def _pause(self, attempt: int) -> int:
        self.tally.retries += 1
        time.sleep(BACKOFF_S * 2**attempt)
        return attempt + 1


def _first_retryable(results: list[dict[str, Any]]) -> int | None:
    for index, result in enumerate(results):
        if result.get("error") in RETRYABLE:
            return index
    return None


def _why(status: int, body: Mapping[str, Any]) -> str:
    code = body.get("error", "no answer" if status == 0 else "error")
    return f"the server refused a batch: {status} {code}: {body.get('message', '')}"


def count_lines(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(1 for raw in lines if raw.strip())


def run_import(args: argparse.Namespace) -> int:
    """``boende import``: send the file, print the summary."""
    path: Path = args.file
    if not path.is_file():
        print(f"boende import: no file {path}", file=sys.stderr)
        return 2
    settings = Settings()
    base_url = args.base_url or api_address(settings)
    tokens = committee_tokens(args.token, settings, minted_for="import")
    tally = Tally()
    started = time.monotonic()
    with httpx.Client(base_url=base_url, timeout=args.timeout) as client:
        try:
            client.get("/healthz").raise_for_status()
        except httpx.HTTPError as error:
            print(f"cannot reach Boende at {base_url}: {error}", file=sys.stderr)
            return 2
        importer = Importer(client, tally)
        total = count_lines(path)
        with progress("importing submissions", total, unit="lines") as shown:
            try:
                for chunk in chunks(read_lines(path, tokens), args.chunk):
                    importer.send(chunk)
                    shown.advance(len(chunk))
            except ImportStopped as stopped:
                print(f"boende import: {stopped}", file=sys.stderr)
                print(tally.report(time.monotonic() - started))
                return 2
    print(tally.report(time.monotonic() - started))
    return 1 if tally.refused else 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_import_command(commands: Commands) -> None:
    """``boende import FILE [--base-url URL] [--token T ...] [--chunk N]``."""
    importing = command(
        commands,
        "import",
        "send a case system's history (NDJSON) to a running Boende",
        run_import,
        "Each line is one submission envelope, oldest first; they are sent in "
        "order through POST /v1/submissions/batch, in chunks. Progress goes to "
        "standard error; at the end, how many lines were recorded, how many "
        "were repeats (already recorded: importing again records nothing "
        "twice) and the refusals by code with the first line numbers. Exits 1 "
        "if any line was refused, 2 if the import could not run.",
    )
    importing.add_argument("file", type=Path, help="the NDJSON file to import")
    importing.add_argument(
        "--base-url", help="the API's address (default: BOENDE_HOST:BOENDE_PORT)"
    )
    importing.add_argument(
        "--token",
        action="append",
        help="a case_system token per committee (repeat for IFN and ALN); "
        "none given, in development, one is minted for each",
    )
    importing.add_argument(
        "--chunk",
        type=_positive,
        default=500,
        help="lines per request (default 500; the server's BOENDE_BATCH_MAX "
        "is the most it takes, and a smaller cap is followed)",
    )
    importing.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds to wait for one request's answer (default 120)",
    )
