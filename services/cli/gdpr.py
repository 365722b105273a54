"""``boende gdpr erase|purge``: the command line of ``services.privacy.rights``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from infra.progress import StepCallback, steps
from services.cli.parsing import Commands, command
from services.privacy.rights import STEP_UNITS, Erasure, erase, purge

if TYPE_CHECKING:
    from services.bootstrap import Boende


def add_gdpr_commands(commands: Commands) -> None:
    """Add ``gdpr erase`` and ``gdpr purge`` to ``boende``'s parser."""
    gdpr = commands.add_parser("gdpr", help="personal data: erase, purge")
    actions = gdpr.add_subparsers(dest="action", required=True)
    erasing = command(
        actions,
        "erase",
        "erase one person's personal data on their request",
        _erase_command,
        "Deletes the person's data key, so their personnummer and name can no "
        "longer be read in any case; the facts and counts stay. The erasure is "
        "recorded on each of their cases.",
    )
    erasing.add_argument(
        "--personnummer",
        required=True,
        help="the person's number; '-' reads it from stdin (keeps it out of "
        "the shell history and the process list)",
    )
    erasing.add_argument("--by", required=True, help="who erases (user id)")
    purging = command(
        actions,
        "purge",
        "erase personal data past the retention period",
        _purge_command,
        "Deletes the data keys of persons whose cases all had their last fact "
        "before the cutoff (gallring), and keys no filing was sealed under. "
        "Progress goes to standard error.",
    )
    purging.add_argument(
        "--before",
        type=date.fromisoformat,
        help="cases whose last fact is before this date (default: "
        "BOENDE_RETENTION_YEARS before today; never later)",
    )
    purging.add_argument("--by", required=True, help="who purges (user id)")


def _erase_command(args: Any) -> int:
    number = sys.stdin.readline().strip() if args.personnummer == "-" else None
    return _run(lambda b, _: erase(b, number or args.personnummer, args.by))


def _purge_command(args: Any) -> int:
    return _run(lambda b, told: purge(b, args.before, args.by, on_progress=told))


def _run(act: Callable[[Boende, StepCallback], Erasure]) -> int:
    """``act`` on a Boende of the environment's settings, its progress shown
    on standard error; then what it did."""
    from infra.settings import Settings
    from services.bootstrap import bootstrap

    boende = bootstrap(Settings())
    try:
        with steps(STEP_UNITS) as told:
            outcome = act(boende, told)
    except ValueError as error:
        print(f"refused: {error}", file=sys.stderr)
        return 2
    finally:
        boende.close()
    _report(outcome)
    return 0


def _report(outcome: Erasure) -> None:
    print(
        f"erased ({outcome.rule}): {outcome.keys_deleted} data key(s) deleted; "
        f"personal_data_erased recorded on {len(outcome.cases)} case(s)"
    )
    if outcome.earlier:
        print(
            f"of which {outcome.earlier} case(s) whose key was deleted before "
            "this run (an interrupted run, or a filing saved after its key's "
            "erasure)"
        )
    if outcome.rule == "retention":
        print(
            f"{outcome.orphan_keys_deleted} data key(s) of no case deleted "
            "(recorded in person_key_purges)"
        )
    if outcome.in_clear:
        print(f"warning: {outcome.in_clear} case(s) hold their applicant in clear")
