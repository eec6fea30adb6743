"""mypy over snippets of code, with the project's settings (``pyproject.toml``: strict) and its
cache (``.mypy_cache``, as ``make typecheck``): a warm run takes a second or two, a cold one ten
or so. Every test that type-checks code written for it goes through :func:`run_mypy`."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.spec import ROOT

_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<kind>error|note): (?P<text>.*)$")
_CODE = re.compile(r"\[(?P<code>[\w-]+)\]$")


@dataclass(frozen=True)
class Message:
    """One line mypy wrote about a snippet."""

    line: int
    kind: str  #: "error" or "note"
    text: str  #: as mypy wrote it (an error's ``[code]`` included)

    @property
    def code(self) -> str | None:
        """An error's code (``arg-type``)."""
        match = _CODE.search(self.text)
        return match["code"] if match else None


def snippet(text: str) -> str:
    """A snippet written indented in a test module, as the module it stands for."""
    return textwrap.dedent(text).lstrip()


def run_mypy(snippets: Mapping[str, str], folder: Path) -> dict[str, list[Message]]:
    """Writes each snippet to ``folder/<name>.py`` as given and runs mypy once over them all:
    its messages by snippet name. mypy failing to run (anything on stderr) or a line of its
    output that is neither a message nor its summary fails the test."""
    api = pytest.importorskip("mypy.api")
    paths = []
    for name, text in snippets.items():
        path = folder / f"{name}.py"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    stdout, stderr, _status = api.run(
        [
            *("--config-file", str(ROOT / "pyproject.toml")),
            *("--cache-dir", str(ROOT / ".mypy_cache")),
            *("--no-pretty", "--show-error-codes", "--hide-error-context"),
            *paths,
        ]
    )
    assert not stderr, stderr
    messages: dict[str, list[Message]] = {name: [] for name in snippets}
    for line in stdout.splitlines():
        match = _LINE.match(line)
        if match:
            found = Message(int(match["line"]), match["kind"], match["text"])
            messages[Path(match["file"]).stem].append(found)
        else:
            assert line.startswith(("Found ", "Success")), line
    return messages


def errors(messages: Iterable[Message]) -> set[tuple[int, str | None]]:
    """(line, code) of each error."""
    return {(m.line, m.code) for m in messages if m.kind == "error"}


def marked(text: str, mark: str = "# E: ") -> dict[int, str]:
    """What each line of a snippet says after ``mark``, by line number (from 1): the errors
    (``# E: <code>``) or revealed types (``# R: <label>``) a test expects there."""
    lines = snippet(text).splitlines()
    return {n: line.split(mark)[1].strip() for n, line in enumerate(lines, 1) if mark in line}
