"""``boende simulate``: play IFN and ALN against the API for N simulated months.

``python -m services.simulation.player --months 12 --seed 1`` plans a seeded,
reproducible stream of submissions (the behaviour model, and why it looks the
way it does, is in ``services.simulation.world``) and posts it to
``/v1/submissions``, publishes it to ``boende.submissions`` with
``--via kafka`` (in order, keyed by case or apartment, for ``boende ingest``),
or writes it as JSON lines with ``--out FILE``.

Sending keeps the plan's order where it matters: consecutive submissions are
grouped into *waves* in which no two touch the same case or apartment (a
``contract_executed`` touches its apartment too, and so do a conversion and a
termination, through the apartment the case lives in); each wave is sent
concurrently and finished before the next starts. A ``concurrent_update`` or
``503`` is retried with a short backoff (safe: a repeat is answered from its
receipt). The exit status is 0 only if every valid submission was accepted
(201, or 200 for a repeat) and every invalid one refused with a 4xx.

Only counts, types, status codes, error codes and ids are printed: never a
personnummer or a name.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from infra.progress import progress
from infra.settings import Settings
from services.simulation.behaviour import Envelope, Plan, api_address
from services.simulation.publishing import publish as publish  # re-exported
from services.simulation.publishing import via_kafka
from services.simulation.scenario import generate, generate_with_expectations, plan
from services.simulation.tokens import committee_tokens, token_for

__all__ = [
    "Summary",
    "generate",
    "generate_with_expectations",
    "main",
    "plan",
    "send",
    "waves",
]

SUBMISSIONS = "/v1/submissions"
RETRIES = 5
BACKOFF_S = 0.05
MOVES_OUT = ("converted_to_first_hand", "contract_terminated")


@dataclass(frozen=True)
class Outcome:
    """What the service answered to one submission, after any retries."""

    status: int  # 0: no answer at all (a transport error)
    error: str | None = None
    position: int | None = None
    retries: int = 0


@dataclass
class Summary:
    """The tally of one run of ``send``."""

    by_status: Counter[int] = field(default_factory=Counter)
    by_type: Counter[str] = field(default_factory=Counter)
    by_error: Counter[str] = field(default_factory=Counter)
    unexpected: int = 0
    elapsed_s: float = 0.0
    max_position: int = 0
    retries: int = 0
    statuses: list[int] = field(default_factory=list)  # per submission, in order
    problems: list[str] = field(default_factory=list)  # the first few unexpected

    @property
    def sent(self) -> int:
        return len(self.statuses)

    @property
    def per_second(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def add(self, env: Envelope, valid: bool, outcome: Outcome) -> None:
        self.statuses.append(outcome.status)
        self.by_status[outcome.status] += 1
        self.by_type[str(env.get("type"))] += 1
        self.retries += outcome.retries
        if outcome.error:
            self.by_error[outcome.error] += 1
        if outcome.position is not None:
            self.max_position = max(self.max_position, outcome.position)
        if not as_expected(outcome.status, valid):
            self.unexpected += 1
            if len(self.problems) < 10:
                self.problems.append(
                    describe(len(self.statuses) - 1, env, valid, outcome)
                )

    def report(self) -> str:
        lines = [
            f"sent {self.sent} submissions in {self.elapsed_s:.2f} s "
            f"({self.per_second:.0f}/s, {self.retries} retries); "
            f"highest position {self.max_position}",
            f"  by type:   {tally(self.by_type)}",
            f"  by status: {tally(self.by_status)}",
        ]
        if self.by_error:
            lines.append(f"  refusals:  {tally(self.by_error)}")
        lines.append(f"  unexpected outcomes: {self.unexpected}")
        lines += [f"    {problem}" for problem in self.problems]
        return "\n".join(lines)


def tally(counts: Counter[Any]) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(counts.items(), key=str))


def as_expected(status: int, valid: bool) -> bool:
    return status in (200, 201) if valid else 400 <= status < 500


def describe(index: int, env: Envelope, valid: bool, outcome: Outcome) -> str:
    """One unexpected outcome, by ids and codes only (no personal data)."""
    key = env.get("case_id") or env.get("apartment_id")
    wanted = "acceptance" if valid else "a 4xx refusal"
    got = f"{outcome.status} {outcome.error or ''}".strip()
    return (
        f"#{index} {env.get('type')} {key} ({env.get('submission_id')}): "
        f"expected {wanted}, got {got}"
    )


# -- ordering ------------------------------------------------------------------


def keys_of(env: Envelope, tenancy: dict[str, str]) -> set[str]:
    """The cases and apartments a submission reads or changes."""
    keys = set()
    case_id, kind = env.get("case_id"), env.get("type")
    if isinstance(case_id, str):
        keys.add(f"case:{case_id}")
        if kind in MOVES_OUT and case_id in tenancy:
            keys.add(f"apartment:{tenancy[case_id]}")
    if isinstance(env.get("apartment_id"), str):
        keys.add(f"apartment:{env['apartment_id']}")
    payload = env.get("payload")
    if kind == "contract_executed" and isinstance(payload, dict):
        keys.add(f"apartment:{payload.get('apartment_id')}")
    return keys


def waves(
    envelopes: Sequence[Envelope], expect_valid: Sequence[bool] | None = None
) -> list[list[int]]:
    """Consecutive runs of submissions (by index) with no case or apartment in
    common: sending a run concurrently is as good as sending it in order."""
    tenancy: dict[str, str] = {}  # case -> apartment, from valid executions
    result: list[list[int]] = []
    busy: set[str] = set()
    for index, env in enumerate(envelopes):
        keys = keys_of(env, tenancy)
        if not result or keys & busy:
            result.append([])
            busy = set()
        result[-1].append(index)
        busy |= keys
        valid = expect_valid is None or expect_valid[index]
        flat = (env.get("payload") or {}).get("apartment_id")
        if valid and env.get("type") == "contract_executed" and flat:
            tenancy[str(env.get("case_id"))] = str(flat)
    return result


# -- sending -------------------------------------------------------------------


def post(
    client: httpx.Client, env: Envelope, tokens: Mapping[str, str] | None = None
) -> Outcome:
    """POST one submission (with its committee's token, ``tokens``); retry
    what the service says is safe to retry."""
    auth = token_for(tokens or {}, env)
    headers = {"Authorization": auth} if auth else {}
    for attempt in range(RETRIES + 1):
        status, body = _post_once(client, env, headers)
        error = body.get("error")
        retry = status in (0, 503) or (status == 409 and error == "concurrent_update")
        if not retry or attempt == RETRIES:
            break
        time.sleep(BACKOFF_S * 2**attempt)
    position = body.get("position")
    return Outcome(
        status,
        error if isinstance(error, str) else None,
        position if isinstance(position, int) else None,
        attempt,
    )


def _post_once(
    client: httpx.Client, env: Envelope, headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    try:
        response = client.post(SUBMISSIONS, json=env, headers=headers)
    except httpx.TransportError:
        return 0, {"error": "no_answer"}
    try:
        body = response.json()
    except ValueError:
        body = {}
    return response.status_code, body if isinstance(body, dict) else {}


def send(
    envelopes: Sequence[Envelope],
    client: httpx.Client,
    concurrency: int = 4,
    *,
    expect_valid: Sequence[bool] | None = None,
    on_progress: Callable[[int], None] | None = None,
    tokens: Mapping[str, str] | None = None,
) -> Summary:
    """Send every submission (wave by wave, each wave ``concurrency`` at a
    time, with its committee's token) and tally the answers against
    ``expect_valid`` (default: all valid); ``on_progress`` is told of each
    wave answered."""
    valid = list(expect_valid) if expect_valid is not None else [True] * len(envelopes)
    if len(valid) != len(envelopes):
        raise ValueError("expect_valid needs one flag per envelope")
    summary = Summary()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for wave in waves(envelopes, valid):
            outcomes = pool.map(lambda i: post(client, envelopes[i], tokens), wave)
            for index, outcome in zip(wave, outcomes, strict=True):
                summary.add(envelopes[index], valid[index], outcome)
            if on_progress is not None:
                on_progress(len(wave))
    summary.elapsed_s = time.perf_counter() - started
    return summary


def write_lines(envelopes: Iterable[Envelope], path: Path) -> int:
    """Write one envelope per line (they hold personal data: keep the file safe)."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for env in envelopes:
            out.write(json.dumps(env, ensure_ascii=False) + "\n")
            count += 1
    return count


# -- the command ---------------------------------------------------------------


def via_http(world: Plan, args: argparse.Namespace) -> int:
    args.base_url = args.base_url or api_address(Settings())
    tokens = committee_tokens(args.token, Settings())
    with httpx.Client(base_url=args.base_url, timeout=30.0) as client:
        try:
            client.get("/healthz").raise_for_status()
        except httpx.HTTPError as error:
            print(f"cannot reach Boende at {args.base_url}: {error}", file=sys.stderr)
            return 1
        with progress("sending submissions", len(world.envelopes)) as shown:
            summary = send(
                world.envelopes,
                client,
                args.concurrency,
                expect_valid=world.expectations,
                on_progress=shown.advance,
                tokens=tokens,
            )
    print(summary.report())
    return 0 if summary.unexpected == 0 else 1


#: How planned submissions reach Boende (``--via``).
VIAS: dict[str, Callable[[Plan, argparse.Namespace], int]] = {
    "http": via_http,
    "kafka": via_kafka,
}


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="boende simulate",
        description="Play IFN and ALN against Boende: a seeded plan of "
        "submissions sent over HTTP, published to Kafka or written to a file. "
        "Exits 1 if an answer was not the one expected.",
    )
    add = parser.add_argument
    add("--months", type=_positive, default=12, help="simulated months (12)")
    add("--seed", type=int, default=1, help="random seed: same seed, same plan (1)")
    add("--start", type=date.fromisoformat, help="first day, YYYY-MM-DD (months ago)")
    add("--base-url", help="the API's address (BOENDE_HOST:BOENDE_PORT, as serve)")
    add("--concurrency", type=_positive, default=4, help="parallel requests (4)")
    add("--invalid-share", type=_share, default=0.0, help="extra invalid ones, 0-1 (0)")
    add("--out", type=Path, help="write JSON lines to this file instead of sending")
    add("--via", choices=sorted(VIAS), default="http", help="over http or kafka (http)")
    add("--token", action="append", help="a case_system token per committee")
    add("--bootstrap", help="Kafka brokers for --via kafka (BOENDE_KAFKA_BOOTSTRAP)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--"]:  # `boende simulate -- --months 12` passes the "--" on
        argv = argv[1:]
    args = build_parser().parse_args(argv)
    try:
        world = plan(args.months, args.seed, args.start, args.invalid_share)
    except ValueError as error:
        print(f"boende simulate: {error}", file=sys.stderr)
        return 2
    refused = world.expectations.count(False)
    print(
        f"simulated {world.start} to {world.end} (seed {args.seed}): "
        f"{len(world.items)} submissions, {refused} of them built to be refused"
    )
    if args.out is not None:
        count = write_lines(world.envelopes, args.out)
        print(f"wrote {count} submissions to {args.out}")
        return 0
    return VIAS[args.via](world, args)


if __name__ == "__main__":
    sys.exit(main())
