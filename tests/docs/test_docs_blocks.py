"""Every ```python block of README.md and docs/*.md type-checks (``mypy --strict``, the project's
settings), and the blocks marked to run do run against FakeCalCom.

The rule, kept simple. A block is a complete module unless an HTML comment on the line right
before its fence says otherwise:

- ``<!-- fragment -->``: the block is the body of ``async def _fragment() -> None:`` (so it may
  ``await`` and ``async with`` at its top level); its leading ``import``/``from`` lines stay at
  module level. ``<!-- fragment cal: CalCom, uid: str -->`` also gives the fragment those
  parameters: the names the block uses without defining them (annotations as written in Python,
  over ``PRELUDE`` and the block's leading imports).
- ``<!-- run -->`` (alone, or first: ``<!-- run fragment cal: CalCom -->``): the block also
  runs, against a seeded FakeCalCom, with ``CALCOM_API_KEY`` and ``CALCOM_BASE_URL`` set to the
  fake's (``CalCom()`` reads both). A module runs as a script (``python block.py``, in a
  subprocess, within 60 s). A fragment that runs may take the parameters of ``RUN_PARAMETERS``:
  ``cal: CalCom`` (a client the runner opens from those variables), ``api_key: str``,
  ``uid: str`` / ``uids: list[str]`` (bookings of the fake), ``fake: FakeCalCom`` (a fake of its
  own, in the block's process). The placeholders the docs write are the fake's: it is started
  with the key ``cal_live_…``, and ``"booking-uid"`` is replaced by a booking of the fake.
- ``<!-- not run: why -->`` (after the rest: ``<!-- fragment db: Any; not run: why -->``): a
  block that cannot run here says why (it serves forever, needs Redis, your database, a browser's
  consent, …). Every block either runs or says why not.

A module gets nothing but ``from __future__ import annotations``: it imports what it uses, so a
reader who copies it has a working file. A fragment gets, besides, the imports its parameters'
annotations need (``cal: CalCom`` imports ``CalCom``; the names of ``ANNOTATION_IMPORTS``), and
nothing else: what its body uses beyond its parameters it imports itself. A fence may be
indented (a block inside a list item): it is collected, and dedented. One mypy run covers every
block (with the project's cache: seconds when warm).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from calcom_async.testing import FakeCalCom
from tests.support.fake_thread import FakeOnThread
from tests.support.spec import ROOT
from tests.support.typecheck import run_mypy

PRELUDE = "from __future__ import annotations\n"

#: what a fragment's parameter annotations may name without importing it (the marker declares it)
ANNOTATION_IMPORTS = {
    "Any": "from typing import Any",
    "CalCom": "from calcom_async import CalCom",
    "CalComSync": "from calcom_async import CalComSync",
    "FakeCalCom": "from calcom_async.testing import FakeCalCom",
    "models": "from calcom_async import models",
}

FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```python[ \t]*\n(?P<code>.*?)^(?P=indent)```[ \t]*$",
    re.DOTALL | re.MULTILINE,
)
MARK = re.compile(r"<!--\s*(?P<text>.*?)\s*-->\s*\Z", re.DOTALL)


@attrs.frozen
class Block:
    source: str  #: README.md, docs/sync.md, …
    line: int  #: the fence's line in that file
    code: str
    fragment: bool
    params: str  #: the fragment's parameters, as written
    run: bool
    why_not: str  #: why it does not run ("" when it does)

    @property
    def param_names(self) -> list[str]:
        names, depth, start = [], 0, 0
        for i, ch in enumerate(self.params + ","):
            depth += {"[": 1, "]": -1}.get(ch, 0)
            if ch == "," and depth == 0:
                if self.params[start:i].strip():
                    names.append(self.params[start:i].split(":")[0].strip())
                start = i + 1
        return names

    @property
    def name(self) -> str:
        stem = re.sub(r"\W", "_", self.source.removesuffix(".md"))
        return f"doc_{stem}_{self.line}"

    def module(self) -> str:
        if not self.fragment:
            return PRELUDE + "\n" + self.code
        lines = self.code.splitlines()
        head = 0  # the leading imports (and blank lines, comments, continued parentheses)
        depth = 0
        for number, line in enumerate(lines):
            if depth or line.startswith(("import ", "from ", "#")) or not line.strip():
                depth += line.count("(") - line.count(")")
                head = number + 1
            else:
                break
        imports = "\n".join(lines[:head])
        body = textwrap.indent("\n".join(lines[head:]) or "pass", "    ")
        named = dict.fromkeys(re.findall(r"[A-Za-z_]\w*", self.params))
        given = "".join(ANNOTATION_IMPORTS[n] + "\n" for n in named if n in ANNOTATION_IMPORTS)
        return (
            f"{PRELUDE}{given}{imports}\n\n\nasync def _fragment({self.params}) -> None:\n{body}\n"
        )


def _blocks() -> list[Block]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    out: list[Block] = []
    for path in files:
        out += _parse(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
    return out


def _parse(source: str, text: str) -> list[Block]:
    out: list[Block] = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n")
        last = before.rsplit("\n", 1)[-1]
        mark = MARK.search(last)
        words = mark["text"] if mark else ""
        words, _, why_not = words.partition("not run:")
        words = words.strip().removesuffix(";").strip()
        run = words.startswith("run")
        words = words.removeprefix("run").strip()
        fragment = words.startswith("fragment")
        params = words.removeprefix("fragment").strip()
        out.append(
            Block(
                source=source,
                line=text.count("\n", 0, match.start()) + 1,
                code=textwrap.dedent(match["code"]),
                fragment=fragment,
                params=params,
                run=run,
                why_not=why_not.strip(),
            )
        )
    return out


BLOCKS = _blocks()

#: blocks that fail for a reason fixed elsewhere, by (file, a line of the block): expected to fail
#: (strict: once fixed, the entry must go)
KNOWN: dict[tuple[str, str], str] = {}


def _known(block: Block) -> str | None:
    for (source, line), reason in KNOWN.items():
        if block.source == source and line in block.code:
            return reason
    return None


#: what a fragment that runs may ask for: the runner gives it (see RUNNER)
RUN_PARAMETERS = {
    "cal": "CalCom",
    "api_key": "str",
    "uid": "str",
    "uids": "list[str]",
    "fake": "FakeCalCom",
}


def test_the_docs_have_blocks_and_the_markers_parse() -> None:
    assert len(BLOCKS) > 20
    assert any(b.run for b in BLOCKS) and any(b.fragment for b in BLOCKS)
    for block in BLOCKS:
        if block.run and block.fragment:
            given = dict(p.split(":") for p in block.params.split(",") if p.strip())
            given = {k.strip(): v.strip() for k, v in given.items()}
            assert given.items() <= RUN_PARAMETERS.items(), block


def test_a_module_gets_no_names_and_an_indented_fence_is_collected() -> None:
    text = (
        "<!-- run -->\n```python\nprint(models)\n```\n\n"
        "- a list item:\n\n  <!-- run fragment cal: CalCom -->\n"
        "  ```python\n  from calcom_async import models\n\n  print(cal, models)\n  ```\n"
    )
    module, fragment = _parse("x.md", text)
    assert module.module() == "from __future__ import annotations\n\nprint(models)\n"
    assert (fragment.line, fragment.run, fragment.fragment) == (9, True, True)
    assert fragment.code == "from calcom_async import models\n\nprint(cal, models)\n"
    assert fragment.module().splitlines()[:3] == [
        "from __future__ import annotations",
        "from calcom_async import CalCom",  # what the parameters name, and only that
        "from calcom_async import models",
    ]


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: f"{b.source}:{b.line}")
def test_every_block_runs_or_says_why_not(block: Block) -> None:
    assert block.run != bool(block.why_not), (
        f"{block.source}:{block.line}: mark it <!-- run … --> or say <!-- …; not run: why -->"
    )


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """mypy's errors by block name, from one run over every block."""
    modules = {block.name: block.module() for block in BLOCKS}
    found = run_mypy(modules, tmp_path_factory.mktemp("docs"))
    return {
        name: [f"line {m.line}: {m.text}" for m in messages if m.kind == "error"]
        for name, messages in found.items()
    }


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: f"{b.source}:{b.line}")
def test_the_block_type_checks(
    block: Block, mypy_errors: dict[str, list[str]], request: pytest.FixtureRequest
) -> None:
    reason = _known(block)
    if reason is not None:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    errors = mypy_errors[block.name]
    numbered = "\n".join(
        f"{n:3} {text}" for n, text in enumerate(block.module().splitlines(), start=1)
    )
    assert not errors, f"{block.source}:{block.line}\n" + "\n".join(errors) + "\n" + numbered


@attrs.frozen
class Docs:
    fake: FakeCalCom
    uids: list[str]  #: bookings of the fake (regular ones, upcoming): ``uid`` is the first


async def _regular_uids(server: FakeCalCom) -> list[str]:
    from calcom_async import models

    async with server.client() as cal:
        listed = await cal.bookings.list(status=["upcoming"], take=100)
    return [b.uid for b in listed if type(b) is models.BookingOutput_2024_08_13][:5]


@pytest.fixture(scope="module")
def docs() -> Iterator[Docs]:
    """A seeded FakeCalCom on a loop of its own (the blocks run in subprocesses), with the key
    the docs write (``cal_live_…``)."""
    served = FakeOnThread(api_key="cal_live_…")
    with served as server:
        server.seed(bookings=300, event_types=3)
        uids = served.run(_regular_uids(server))
        assert len(uids) == 5
        yield Docs(server, uids)


RUNNER = """
import asyncio as _asyncio
import contextlib as _contextlib
import os as _os
import typing as _typing

from calcom_async import CalCom as _CalCom


async def _main() -> None:
    async with _contextlib.AsyncExitStack() as stack:
        given: dict[str, _typing.Any] = {{}}
        for name in {names!r}:
            if name == "cal":
                given[name] = await stack.enter_async_context(_CalCom())
            elif name == "fake":
                from calcom_async.testing import FakeCalCom as _Fake

                given[name] = await stack.enter_async_context(_Fake())
                given[name].seed(bookings=20, event_types=2)
            elif name == "uids":
                given[name] = _os.environ["DOCS_BOOKING_UIDS"].split(",")
            else:
                given[name] = _os.environ[{{"uid": "DOCS_BOOKING_UID"}}.get(name, "CALCOM_API_KEY")]
        await _fragment(**given)


_asyncio.run(_main())
"""


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.run], ids=lambda b: f"{b.source}:{b.line}"
)
def test_the_block_runs_against_the_fake(block: Block, docs: Docs, tmp_path: Path) -> None:
    code = block.module()
    if block.fragment:
        code += RUNNER.format(names=block.param_names)
    script = tmp_path / f"{block.name}_run.py"
    script.write_text(code.replace('"booking-uid"', f'"{docs.uids[0]}"'), encoding="utf-8")
    env = {
        **os.environ,
        "CALCOM_API_KEY": docs.fake.api_key,
        "CALCOM_BASE_URL": docs.fake.base_url,
        "DOCS_BOOKING_UID": docs.uids[0],
        "DOCS_BOOKING_UIDS": ",".join(docs.uids),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"{block.source}:{block.line}\n{done.stdout}\n{done.stderr}"
