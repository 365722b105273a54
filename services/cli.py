"""The ``boende`` command: ``serve`` (what ``make run`` calls), ``simulate``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from infra.settings import Settings


def serve(_: argparse.Namespace) -> int:
    import uvicorn

    from services.api import create_app
    from services.bootstrap import bootstrap

    settings = Settings()
    boende = bootstrap(settings)
    where = (
        settings.database_url and "PostgreSQL"
    ) or f"SQLite under {settings.data_dir}/"
    print(f"Boende serving on http://{settings.host}:{settings.port} (store: {where})")
    print(f"API docs: http://{settings.host}:{settings.port}/docs", flush=True)
    try:
        uvicorn.run(
            create_app(boende), host=settings.host, port=settings.port, log_level="info"
        )
    finally:
        boende.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="boende", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the HTTP API").set_defaults(run=serve)
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
