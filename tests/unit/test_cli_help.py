"""The ``boende`` command explains itself: every command and every option
has help in plain words, ``boende --help`` names every command, the choices
(read models, roles) are shown, and ``--version`` says which Boende."""

from __future__ import annotations

import argparse
import importlib.metadata
from collections.abc import Iterator

import pytest

from infra.auth import ROLES
from services.bootstrap import PROJECTIONS
from services.cli.main import build_parser, main
from services.cli.parsing import Commands
from services.simulation import player

Named = tuple[str, argparse.ArgumentParser]


def walk(name: str, parser: argparse.ArgumentParser) -> Iterator[Named]:
    """``parser`` and every subcommand's parser below it, with its name."""
    yield name, parser
    for action in subcommand_actions(parser):
        for sub, subparser in action.choices.items():
            yield from walk(f"{name} {sub}", subparser)


def subcommand_actions(parser: argparse.ArgumentParser) -> list[Commands]:
    return [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]


def every_parser() -> list[Named]:
    return [*walk("boende", build_parser()), ("boende simulate", player.build_parser())]


def commands() -> list[str]:
    """Every command an operator runs: the leaves of the tree."""
    return [
        name.removeprefix("boende ")
        for name, parser in walk("boende", build_parser())
        if name != "boende" and not subcommand_actions(parser)
    ]


def test_the_tree_has_the_commands_operators_run() -> None:
    assert {
        "serve",
        "doctor",
        "simulate",
        "projections status",
        "projections rebuild",
        "audit sign",
        "audit verify",
        "audit export",
        "audit verify-bundle",
        "audit show",
        "audit public-key",
        "gdpr erase",
        "gdpr purge",
        "topics create",
        "token",
    } <= set(commands())


@pytest.mark.parametrize(("name", "parser"), every_parser(), ids=lambda x: str(x))
def test_every_subcommand_has_help(name: str, parser: argparse.ArgumentParser) -> None:
    for action in subcommand_actions(parser):
        listed = {choice.dest: choice.help for choice in action._choices_actions}
        assert set(listed) == set(action.choices), name
        for sub, text in listed.items():
            assert text and text.strip(), f"{name} {sub} has no help"


@pytest.mark.parametrize(("name", "parser"), every_parser(), ids=lambda x: str(x))
def test_every_option_and_argument_has_help(
    name: str, parser: argparse.ArgumentParser
) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        shown = action.option_strings or [action.dest]
        assert action.help and action.help.strip(), f"{name} {shown[0]} has no help"
        assert action.help != argparse.SUPPRESS, f"{name} {shown[0]} is hidden"


@pytest.mark.parametrize(("name", "parser"), every_parser(), ids=lambda x: str(x))
def test_help_is_plain_words_without_markup(
    name: str, parser: argparse.ArgumentParser
) -> None:
    texts = [parser.format_help(), parser.description or "", parser.epilog or ""]
    texts += [action.help or "" for action in parser._actions]
    for action in subcommand_actions(parser):
        texts += [choice.help or "" for choice in action._choices_actions]
    for text in texts:
        assert "``" not in text, f"{name}: markup in {text!r}"
        assert ":class:" not in text and ":func:" not in text, name


def test_the_top_level_help_names_every_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    shown = capsys.readouterr().out
    assert "sociala kontrakt" in shown  # a description, not the module docstring
    for command in commands():
        assert f"  {command} " in shown, f"{command} is not in boende --help"
    listed = build_parser().epilog or ""
    assert max(len(line) for line in listed.splitlines()) <= 80  # a terminal's width


def test_choices_are_shown_in_the_help() -> None:
    parsers = dict(walk("boende", build_parser()))
    rebuild = parsers["boende projections rebuild"].format_help()
    for name in [projection.name for projection in PROJECTIONS] + ["all"]:
        assert name in rebuild
    token = parsers["boende token"].format_help()
    for role in ROLES:
        assert role in token


def test_version_is_the_installed_distributions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"boende {importlib.metadata.version('boende')}\n"
