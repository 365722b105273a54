"""``boende gdpr erase|purge``: the command line of ``services.privacy.rights``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from services.privacy.rights import Erasure, erase, purge

if TYPE_CHECKING:
    from services.bootstrap import Boende


def add_gdpr_commands(commands: Any) -> None:
    """Add ``gdpr erase`` and ``gdpr purge`` to ``boende``'s parser."""
    gdpr = commands.add_parser("gdpr", help="personal data: erase, purge")
    actions = gdpr.add_subparsers(dest="action", required=True)
    erasing = actions.add_parser("erase", help="erase one person's data on request")
    erasing.add_argument(
        "--personnummer",
        required=True,
        help="the person's number; '-' reads it from stdin (keeps it out of "
        "the shell history and the process list)",
    )
    erasing.add_argument("--by", required=True, help="who erases (user id)")
    erasing.set_defaults(run=_erase_command)
    purging = actions.add_parser("purge", help="erase data past the retention period")
    purging.add_argument(
        "--before",
        type=date.fromisoformat,
        help="cases whose last fact is before this date (default: "
        "BOENDE_RETENTION_YEARS before today; never later)",
    )
    purging.add_argument("--by", required=True, help="who purges (user id)")
    purging.set_defaults(run=_purge_command)


def _erase_command(args: Any) -> int:
    number = sys.stdin.readline().strip() if args.personnummer == "-" else None
    return _run(lambda b: erase(b, number or args.personnummer, args.by))


def _purge_command(args: Any) -> int:
    return _run(lambda b: purge(b, args.before, args.by))


def _run(act: Callable[[Boende], Erasure]) -> int:
    from infra.settings import Settings
    from services.bootstrap import bootstrap

    boende = bootstrap(Settings())
    try:
        outcome = act(boende)
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
