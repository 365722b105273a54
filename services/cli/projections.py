"""``boende projections status|rebuild``: where each read model stands, and
a rebuild of one (or of all) beside the live ones."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

from infra.progress import progress
from infra.settings import Settings
from services.bootstrap import PROJECTIONS
from services.cli.parsing import Commands, command


def add_projections_commands(commands: Commands) -> None:
    views = commands.add_parser("projections", help="the read models: status, rebuild")
    view_commands = views.add_subparsers(dest="action", required=True)
    command(
        view_commands,
        "status",
        "show each read model's position and lag behind the log",
        projections_status,
    )
    rebuild = command(
        view_commands,
        "rebuild",
        "rebuild a read model (or all) beside the live one",
        projections_rebuild,
        "The log is replayed into a new copy, which then takes the live one's "
        "place; the live one answers until then. "
        "Progress goes to standard error; at the end it says how many events "
        "were replayed. 'all' shares the read models out over "
        "BOENDE_REBUILD_PROCESSES processes (one per core by default). "
        "Ctrl-C stops it (exit 130) and changes nothing.",
    )
    rebuild.add_argument(
        "name",
        choices=[projection.name for projection in PROJECTIONS] + ["all"],
        help="the read model to rebuild, one of: %(choices)s",
    )


def projections_status(_: argparse.Namespace) -> int:
    """Each read model's position in the log, how far behind it is, and
    where a rebuild of it stands."""
    from services.bootstrap import bootstrap
    from services.projecting.rebuild import rebuild_state

    boende = bootstrap(Settings())
    try:
        print(f"{'projection':<14} {'position':>10} {'log':>10} {'lag':>8}  rebuild")
        for runner in boende.runners:
            s = runner.status()
            rebuild = rebuild_state(boende.settings, s.name)
            print(
                f"{s.name:<14} {s.position:>10} {s.log_position:>10} {s.lag:>8}  "
                f"{rebuild}"
            )
    finally:
        boende.close()
    return 0


def projections_rebuild(args: argparse.Namespace) -> int:
    """Replay the whole log into a new copy of one read model (or of all,
    shared out over processes), which then takes the old one's place at
    once; the old one answers until then."""
    from infra.schema_lock import RebuildRunning
    from services.bootstrap import bootstrap
    from services.projecting.rebuild import (
        RebuildFailed,
        RebuildStopped,
        processes_for,
        rebuild_together,
    )

    # Ctrl-C or SIGTERM stops the replay at its next batch; once the replay
    # is over the take-overs (seconds) are let finish: every read model
    # asked for is replaced, or none is, unless a take-over itself fails.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    boende = bootstrap(Settings())
    try:
        names = [r.projection.name for r in boende.runners]
        chosen = names if args.name == "all" else [args.name]
        runners = [boende.runner(name) for name in chosen]
        started = time.monotonic()
        with progress("replaying the case log", boende.app.event_count()) as shown:
            count = rebuild_together(
                runners, stop.is_set, shown.advance, processes_for(boende.settings)
            )
        took = time.monotonic() - started
        print(f"{', '.join(chosen)}: replayed {count} events in {took:.1f} s")
    except RebuildRunning as running:
        print(
            f"boende projections rebuild: another process is rebuilding {running}; "
            "nothing was changed",
            file=sys.stderr,
        )
        return 1
    except RebuildStopped as stopped:
        print(
            f"boende projections rebuild: stopped after replaying "
            f"{stopped.replayed} events; nothing was changed, the read models "
            "answer as before",
            file=sys.stderr,
        )
        return 130
    except RebuildFailed as failed:
        changed = (
            f"{', '.join(failed.replaced)} replaced, the others answer as before"
            if failed.replaced
            else "nothing was changed, the read models answer as before"
        )
        print(f"boende projections rebuild: {failed}; {changed}", file=sys.stderr)
        return 1
    finally:
        boende.close()
    return 0
