"""The ``boende`` command: one subcommand per operation (``boende --help``
lists them all, with the nested ones, from the parser itself).

Help texts are plain words for an operator at a terminal: no markup, every
option explained, choices (read models, roles) shown.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta

from infra.settings import Settings
from services.cli.behind import refuse_when_behind
from services.cli.parsing import Commands, command, every_command, version
from services.projecting.runner import Follower

DESCRIPTION = """\
Boende keeps the case log of the municipality's social housing contracts
(sociala kontrakt): every fact the care committee (IFN) and the labour market
committee (ALN) record lands once in an append-only log; the read models, the
oversight figures and the audit proofs are made from it.

Every command reads its settings from BOENDE_* environment variables (see
Configuration in README.md). 'boende COMMAND --help' explains one command."""


def serve(args: argparse.Namespace) -> int:
    """Serve the API; unless BOENDE_RUN_PROJECTIONS=false, follow the log too."""
    import os

    from services.http.app import run

    if args.workers is not None:  # the worker processes read it too
        os.environ["BOENDE_WEB_WORKERS"] = str(args.workers)
    if refused := refuse_when_behind(Settings(), "serve"):
        return refused
    return run(Settings())


def token(args: argparse.Namespace) -> int:
    """Print a development token (signed with <data_dir>/keys/jwt_dev.key)."""
    from infra.auth import AuthConfigError, mint_dev_token

    lifetime = timedelta(minutes=args.minutes)
    if ("case_system" in args.role) != (args.committee is not None):
        print(
            "boende token: a case_system token needs --committee (the one "
            "committee whose officers it may name), and only it takes one",
            file=sys.stderr,
        )
        return 2
    try:
        token = mint_dev_token(
            Settings(), args.sub, args.role, lifetime, committee=args.committee
        )
        print(token)
    except AuthConfigError as error:
        print(f"boende token: {error}", file=sys.stderr)
        return 2
    return 0


def add_token_command(commands: Commands) -> None:
    """``boende token --role ROLE [--role ROLE ...] --sub NAME [--committee C]
    [--minutes N]``."""
    from infra.auth import ROLES

    minting = command(
        commands,
        "token",
        "print a development bearer token",
        token,
        "It is signed with the development key under the data dir (made on "
        "first use). Production refuses it: there, tokens come from the "
        "municipality's identity provider.",
    )
    minting.add_argument(
        "--role",
        action="append",
        required=True,
        choices=ROLES,
        help="a role the token carries; repeat for more. One of: %(choices)s",
    )
    minting.add_argument(
        "--sub", required=True, help="who the token names (its 'sub' claim)"
    )
    minting.add_argument(
        "--committee",
        choices=("IFN", "ALN"),
        help="with --role case_system: the committee it submits for (its "
        "'committee' claim; it may name that committee's officers)",
    )
    minting.add_argument(
        "--minutes",
        type=int,
        default=720,
        help="how long the token is valid, in minutes (default: 720, 12 hours)",
    )


def project(args: argparse.Namespace) -> int:
    """Run the projection follower on its own, until SIGTERM or Ctrl-C."""
    from services.bootstrap import bootstrap

    if args.source == "kafka":
        from services.kafka.feed import run

        return run(Settings())  # no store here: the relay checked its log
    from infra import metrics

    if refused := refuse_when_behind(Settings(), "project"):
        return refused
    boende = bootstrap(Settings())
    metrics.serve(boende.settings.metrics_port, boende.settings.metrics_host)
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

    if refused := refuse_when_behind(Settings(), "ingest"):
        return refused
    return run(Settings(), args.topic, args.rejected, args.group, args.instance_id)


def relay(args: argparse.Namespace) -> int:
    """Publish every recorded event to Kafka, until SIGTERM or Ctrl-C."""
    from services.kafka.relay import run

    if refused := refuse_when_behind(Settings(), "relay"):
        return refused
    return run(Settings(), args.topic)


def build_parser() -> argparse.ArgumentParser:
    """Every command and option of ``boende``, each with its help."""
    parser = argparse.ArgumentParser(
        prog="boende",
        usage="boende [-h] [--version] COMMAND [ARGS...]",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"boende {version()}",
        help="print the installed version of Boende and exit",
    )
    # Listed once, in the epilog, with the nested commands: not twice.
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help=argparse.SUPPRESS
    )
    serving = command(
        commands,
        "serve",
        "serve the HTTP API",
        serve,
        "It listens on BOENDE_HOST:BOENDE_PORT and keeps the read models up to "
        "date in the same process, unless BOENDE_RUN_PROJECTIONS=false (then "
        "run 'boende project' beside it). With more than one worker it starts "
        "one 'boende project' beside the workers instead. In development it "
        "prints a token for each role.",
    )
    serving.add_argument(
        "--workers",
        type=int,
        choices=range(1, 65),
        metavar="N",
        help="HTTP server processes sharing the port (default: BOENDE_WEB_WORKERS, "
        "1; 1 to 64); about one per core",
    )
    follow = command(
        commands,
        "project",
        "keep the read models up to date, until stopped",
        project,
        "A process of its own for the read models, for when the API runs with "
        "BOENDE_RUN_PROJECTIONS=false.",
    )
    follow.add_argument(
        "--source",
        choices=["store", "kafka"],
        default="store",
        help="where the events come from: the event store (store, the default) "
        "or the Kafka topic boende.events (kafka)",
    )
    from services.cli.projections import add_projections_commands

    add_projections_commands(commands)
    _add_kafka_commands(commands)
    add_token_command(commands)
    from services.cli.audit import add_audit_commands  # sign, verify, export

    add_audit_commands(commands)
    from services.cli.gdpr import add_gdpr_commands  # erase, purge

    add_gdpr_commands(commands)
    from services.cli.doctor import add_doctor_command

    add_doctor_command(commands)
    from services.cli.bulk_import import add_import_command

    add_import_command(commands)
    # ``simulate`` is dispatched in ``main`` before parsing: it has its own
    # options (``boende simulate --help``); listed here for ``boende --help``.
    commands.add_parser(
        "simulate",
        help="play IFN and ALN against the API (boende simulate --help)",
        add_help=False,
    )
    parser.epilog = every_command(commands)
    return parser


def _add_kafka_commands(commands: Commands) -> None:
    topics = commands.add_parser("topics", help="Kafka topics: create")
    command(
        topics.add_subparsers(dest="action", required=True),
        "create",
        "create the Kafka topics and bring their settings in line",
        topics_create,
        "The four topics are boende.submissions, boende.submissions.rejected, "
        "boende.events and boende.audit.heads (every signed tree head, kept "
        "forever). Exits 1 if a difference cannot be fixed here "
        "(partition count, replication factor).",
    )
    ingesting = command(
        commands,
        "ingest",
        "record what arrives on boende.submissions, until stopped",
        ingest,
        "Refused submissions go to boende.submissions.rejected with the reason.",
    )
    ingesting.add_argument(
        "--topic", help="the topic to read submissions from (boende.submissions)"
    )
    ingesting.add_argument(
        "--rejected",
        help="the topic refused submissions go to (boende.submissions.rejected)",
    )
    ingesting.add_argument(
        "--group", help="the Kafka consumer group to join (boende-ingest)"
    )
    ingesting.add_argument(
        "--instance-id",
        help="a fixed member id in the consumer group (static membership): a "
        "restarted worker takes its partitions straight back",
    )
    relaying = command(
        commands,
        "relay",
        "publish the case log to boende.events, until stopped",
        relay,
    )
    relaying.add_argument(
        "--topic", help="the topic to publish the events to (boende.events)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["simulate"]:  # the simulator parses its own options
        from services.simulation import player as simulator

        return simulator.main(argv[1:])
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
