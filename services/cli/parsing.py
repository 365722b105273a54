"""How ``boende``'s commands explain themselves: a subcommand's help, the
list of every command for ``boende --help``, and the installed version.

A command has a *summary* (its line in every list, short enough for one line)
and may have *details*, shown after it by its own ``--help``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
from collections.abc import Callable
from typing import Any, TypeAlias

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def command(
    commands: Commands,
    name: str,
    summary: str,
    run: Callable[[Any], int] | None = None,
    details: str = "",
) -> argparse.ArgumentParser:
    """Add subcommand ``name``: ``summary`` in the lists, and ``summary``
    then ``details`` as the description its ``--help`` shows."""
    description = f"{summary[:1].upper()}{summary[1:]}. {details}".strip()
    parser = commands.add_parser(name, help=summary, description=description)
    if run is not None:
        parser.set_defaults(run=run)
    return parser


def every_command(commands: Commands) -> str:
    """Every command, nested ones too (``audit sign``), one line each."""
    rows = _rows(commands)
    width = max(len(name) for name, _ in rows) + 2
    return "commands:\n" + "\n".join(
        f"  {name:<{width}}{summary}" for name, summary in rows
    )


def _rows(commands: Commands, prefix: str = "") -> list[tuple[str, str]]:
    summaries = {a.dest: a.help or "" for a in commands._choices_actions}
    rows: list[tuple[str, str]] = []
    for name, parser in commands.choices.items():
        nested = [
            a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
        ]
        if nested:
            rows += _rows(nested[0], f"{prefix}{name} ")
        else:
            rows.append((f"{prefix}{name}", summaries[name]))
    return rows


def version() -> str:
    """The installed distribution's version (``importlib.metadata``)."""
    try:
        return importlib.metadata.version("boende")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed: running from a checkout)"
