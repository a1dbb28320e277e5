"""Every command's --help has a description and documents every option, and the README
documents every option of every command (issue 8: a consistent CLI)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

from exaop.cli import build_parser

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def commands(parser: argparse.ArgumentParser, name: str = "exaop") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, child in action.choices.items():
                yield from commands(child, f"{name} {sub}")


def options(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    for action in parser._actions:
        if action.option_strings and not isinstance(action, argparse._HelpAction):
            yield action


def test_every_command_has_a_description_and_every_option_a_help() -> None:
    found = dict(commands(build_parser()))
    assert {"exaop serve", "exaop admin reset-password", "exaop demo", "exaop cluster start", "exaop cluster stop",
            "exaop cluster status", "exaop cluster logs"} <= set(found)  # fmt: skip
    for name, parser in found.items():
        assert parser.description and len(parser.description) > 20, name
        for action in options(parser):
            assert action.help and action.help != argparse.SUPPRESS, (name, action.option_strings)
            assert action.help in parser.format_help().replace("\n", " ") or action.option_strings[0] in \
                parser.format_help(), (name, action.option_strings)  # fmt: skip


def test_the_readme_documents_every_option_of_every_command() -> None:
    missing = []
    for name, parser in commands(build_parser()):
        for action in options(parser):
            flag = max(action.option_strings, key=len)
            if not re.search(rf"`[^`\n]*{re.escape(flag)}\b[^`\n]*`", README):  # in a `code span`
                missing.append(f"{name} {flag}")
    assert missing == []


def test_the_readme_documents_every_event_kind_with_its_data() -> None:
    from exaop.ops.events import SCHEMA

    for kind, keys in SCHEMA.items():
        row = next((line for line in README.splitlines() if line.startswith(f"| `{kind}` |")), "")
        assert row, kind
        data = row.rsplit("|", 2)[-2]
        assert set(re.findall(r"`(\w+)`", data)) >= set(keys), (kind, row)
