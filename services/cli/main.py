"""The ``boende`` command: ``serve`` (what ``make run`` calls), ``project``,
``projections status|rebuild``, ``token``, ``simulate``."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from datetime import timedelta

from infra.settings import Settings
from services.projecting.runner import Follower


def serve(_: argparse.Namespace) -> int:
    """Serve the API; unless BOENDE_RUN_PROJECTIONS=false, follow the log too."""
    from services.http.app import run

    return run(Settings())


def token(args: argparse.Namespace) -> int:
    """Print a development token (signed with <data_dir>/keys/jwt_dev.key)."""
    from infra.auth import AuthConfigError, mint_dev_token

    lifetime = timedelta(minutes=args.minutes)
    try:
        print(mint_dev_token(Settings(), args.sub, args.role, lifetime))
    except AuthConfigError as error:
        print(f"boende token: {error}", file=sys.stderr)
        return 2
    return 0


def add_token_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """``boende token --role ROLE [--role ROLE ...] --sub NAME [--minutes N]``."""
    from infra.auth import ROLES

    minting = commands.add_parser("token", help="mint a development bearer token")
    minting.add_argument("--role", action="append", required=True, choices=ROLES)
    minting.add_argument("--sub", required=True, help="who the token names")
    minting.add_argument("--minutes", type=int, default=720, help="lifetime (720)")
    minting.set_defaults(run=token)


def project(args: argparse.Namespace) -> int:
    """Run the projection follower on its own, until SIGTERM or Ctrl-C."""
    from services.bootstrap import bootstrap

    if args.source == "kafka":
        from services.kafka.feed import run

        return run(Settings())
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
    """Drop one read model (or all) and replay the whole log into it (into
    all of them at once: the log is read and decoded once)."""
    from services.bootstrap import bootstrap
    from services.projecting.runner import rebuild_together

    boende = bootstrap(Settings())
    try:
        names = [r.projection.name for r in boende.runners]
        chosen = names if args.name == "all" else [args.name]
        if not set(chosen) <= set(names):
            print(f"unknown projection {args.name!r}; known: {', '.join(names)}, all")
            return 2
        started = time.monotonic()
        count = rebuild_together([boende.runner(name) for name in chosen])
        took = time.monotonic() - started
        print(f"{', '.join(chosen)}: replayed {count} events in {took:.1f} s")
    finally:
        boende.close()
    return 0


def topics_create(_: argparse.Namespace) -> int:
    """Create the missing Kafka topics and bring existing ones' configs in
    line; 1 if a difference could not be fixed (partitions, replicas)."""
    from infra.kafka import ensure_topics

    report = ensure_topics(Settings())
    for line in report.lines():
        print(line)
    return 0 if report.in_line else 1


def ingest(args: argparse.Namespace) -> int:
    """Record what committee services publish to Kafka, until SIGTERM or Ctrl-C."""
    from services.kafka.ingest import run

    return run(Settings(), args.topic, args.rejected, args.group, args.instance_id)


def relay(args: argparse.Namespace) -> int:
    """Publish every recorded event to Kafka, until SIGTERM or Ctrl-C."""
    from services.kafka.relay import run

    return run(Settings(), args.topic)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="boende", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the HTTP API").set_defaults(run=serve)
    follow = commands.add_parser("project", help="keep the read models up to date")
    follow.add_argument(
        "--source",
        choices=["store", "kafka"],
        default="store",
        help="follow the event store (default) or Kafka's boende.events",
    )
    follow.set_defaults(run=project)
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
    topic_commands.add_parser(
        "create", help="create the three topics, align their configs"
    ).set_defaults(run=topics_create)
    ingesting = commands.add_parser("ingest", help="record boende.submissions")
    ingesting.add_argument("--topic", help="topic to consume (boende.submissions)")
    ingesting.add_argument("--rejected", help="topic for refusals (…rejected)")
    ingesting.add_argument("--group", help="consumer group (boende-ingest)")
    ingesting.add_argument("--instance-id", help="static group membership id")
    ingesting.set_defaults(run=ingest)
    relaying = commands.add_parser("relay", help="publish the log to boende.events")
    relaying.add_argument("--topic", help="topic to publish to (boende.events)")
    relaying.set_defaults(run=relay)
    add_token_command(commands)
    from services.cli.audit import add_audit_commands  # sign, verify, export

    add_audit_commands(commands)
    from services.cli.gdpr import add_gdpr_commands  # erase, purge

    add_gdpr_commands(commands)
    # ``simulate`` is dispatched in ``main`` before parsing: it has its own
    # options (``boende simulate --help``); listed here for ``boende --help``.
    commands.add_parser("simulate", help="play IFN and ALN against the API")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["simulate"]:  # the simulator parses its own options
        from services.simulation import player as simulator

        return simulator.main(argv[1:])
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
