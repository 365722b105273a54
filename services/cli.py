"""The ``boende`` command: ``serve`` (what ``make run`` calls), ``project``,
``projections status|rebuild``, ``simulate``."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence

from infra.settings import Settings
from services.projection_runner import Follower


def serve(_: argparse.Namespace) -> int:
    """Serve the API; unless BOENDE_RUN_PROJECTIONS=false, follow the log too."""
    import uvicorn

    from services.api import create_app
    from services.bootstrap import bootstrap

    settings = Settings()
    boende = bootstrap(settings, follow=settings.run_projections)
    where = (
        "PostgreSQL" if settings.database_url else f"SQLite under {settings.data_dir}/"
    )
    print(f"Boende serving on http://{settings.host}:{settings.port} (store: {where})")
    print(f"API docs: http://{settings.host}:{settings.port}/docs", flush=True)
    app = create_app(boende, close_on_shutdown=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0


def project(_: argparse.Namespace) -> int:
    """Run the projection follower on its own, until SIGTERM or Ctrl-C."""
    from services.bootstrap import bootstrap

    boende = bootstrap(Settings())
    follower = Follower(boende.runners, boende.settings.projection_poll_seconds)
    signal.signal(signal.SIGTERM, lambda *_: follower.request_stop())
    names = ", ".join(r.projection.name for r in boende.runners)
    print(f"following the case log for: {names}", flush=True)
    try:
        follower.run_until_stopped()
    except KeyboardInterrupt:
        pass
    finally:
        boende.close()
    return 0


def projections_status(_: argparse.Namespace) -> int:
    """Each read model's position in the log and how far behind it is."""
    from services.bootstrap import bootstrap

    boende = bootstrap(Settings())
    try:
        print(f"{'projection':<14} {'position':>10} {'log':>10} {'lag':>8}")
        for runner in boende.runners:
            s = runner.status()
            print(f"{s.name:<14} {s.position:>10} {s.log_position:>10} {s.lag:>8}")
    finally:
        boende.close()
    return 0


def projections_rebuild(args: argparse.Namespace) -> int:
    """Drop one read model (or all) and replay the whole log into it."""
    from services.bootstrap import bootstrap

    boende = bootstrap(Settings())
    try:
        names = [r.projection.name for r in boende.runners]
        chosen = names if args.name == "all" else [args.name]
        if not set(chosen) <= set(names):
            print(f"unknown projection {args.name!r}; known: {', '.join(names)}, all")
            return 2
        for name in chosen:
            started = time.monotonic()
            count = boende.runner(name).rebuild()
            took = time.monotonic() - started
            print(f"{name}: replayed {count} events in {took:.1f} s")
    finally:
        boende.close()
    return 0


def topics_create(_: argparse.Namespace) -> int:
    """Create the Kafka topics that do not exist yet."""
    from infra.kafka import TOPICS, create_topics

    settings = Settings()
    created = create_topics(settings)
    for name in TOPICS:
        print(f"{name}: {'created' if name in created else 'exists'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="boende", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the HTTP API").set_defaults(run=serve)
    commands.add_parser("project", help="keep the read models up to date").set_defaults(
        run=project
    )
    views = commands.add_parser("projections", help="read models: status, rebuild")
    view_commands = views.add_subparsers(dest="action", required=True)
    view_commands.add_parser("status", help="positions and lag").set_defaults(
        run=projections_status
    )
    rebuild = view_commands.add_parser("rebuild", help="drop and replay one read model")
    rebuild.add_argument("name", help="a projection name, or 'all'")
    rebuild.set_defaults(run=projections_rebuild)
    topics = commands.add_parser("topics", help="Kafka topics")
    topic_commands = topics.add_subparsers(dest="action", required=True)
    topic_commands.add_parser("create", help="create the three topics").set_defaults(
        run=topics_create
    )
    # ``simulate`` is dispatched in ``main`` before parsing: it has its own
    # options (``boende simulate --help``); listed here for ``boende --help``.
    commands.add_parser("simulate", help="play IFN and ALN against the API")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["simulate"]:  # the simulator parses its own options
        from services import simulate as simulator

        return simulator.main(argv[1:])
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
