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
  subprocess, within 60 s); a fragment's only parameter may be ``cal: CalCom`` (a client the
  runner opens from those variables).

Every module and every fragment starts with ``PRELUDE`` (``from __future__ import annotations``,
``typing.Any``, the common ``calcom_async`` names), so a block shows only what it is about. One
mypy run covers every block (with the project's cache: seconds when warm).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from _spec import ROOT

from calcom_async.testing import FakeCalCom

api = pytest.importorskip("mypy.api")

PRELUDE = """\
from __future__ import annotations

from typing import Any

from calcom_async import CalCom, CalComSync, Progress, RequestOptions, models
"""

FENCE = re.compile(r"^```python[ \t]*\n(?P<code>.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
MARK = re.compile(r"<!--\s*(?P<text>.*?)\s*-->\s*\Z", re.DOTALL)


@attrs.frozen
class Block:
    source: str  #: README.md, docs/sync.md, …
    line: int  #: the fence's line in that file
    code: str
    fragment: bool
    params: str  #: the fragment's parameters, as written
    run: bool

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
        return f"{PRELUDE}{imports}\n\n\nasync def _fragment({self.params}) -> None:\n{body}\n"


def _blocks() -> list[Block]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    out: list[Block] = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            before = text[: match.start()].rstrip("\n")
            last = before.rsplit("\n", 1)[-1]
            mark = MARK.search(last)
            words = mark["text"] if mark else ""
            run = words.startswith("run")
            words = words.removeprefix("run").strip()
            fragment = words.startswith("fragment")
            params = words.removeprefix("fragment").strip()
            out.append(
                Block(
                    source=str(path.relative_to(ROOT)),
                    line=text.count("\n", 0, match.start()) + 1,
                    code=match["code"],
                    fragment=fragment,
                    params=params,
                    run=run,
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


LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<kind>error|note): (?P<text>.*)$")


def test_the_docs_have_blocks_and_the_markers_parse() -> None:
    assert len(BLOCKS) > 20
    assert any(b.run for b in BLOCKS) and any(b.fragment for b in BLOCKS)
    for block in BLOCKS:
        if block.run and block.fragment:
            assert block.params in ("", "cal: CalCom"), block


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("docs")
    files = {}
    for block in BLOCKS:
        path = folder / f"{block.name}.py"
        path.write_text(block.module(), encoding="utf-8")
        files[block.name] = path
    return files


@pytest.fixture(scope="module")
def mypy_errors(written: dict[str, Path]) -> dict[str, list[str]]:
    """mypy's errors by block name, from one run over every block."""
    stdout, stderr, _status = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(ROOT / ".mypy_cache"),
            "--no-pretty",
            "--show-error-codes",
            "--hide-error-context",
            *(str(p) for p in written.values()),
        ]
    )
    assert not stderr, stderr
    errors: dict[str, list[str]] = {name: [] for name in written}
    for line in stdout.splitlines():
        match = LINE.match(line)
        if match and match["kind"] == "error":
            errors[Path(match["file"]).stem].append(f"line {match['line']}: {match['text']}")
    return errors


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


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeCalCom]:
    """A seeded FakeCalCom on a loop of its own (the blocks run in subprocesses)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = FakeCalCom()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(30)
    server.seed(bookings=300, event_types=3)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


RUNNER = """
import asyncio

async def _main() -> None:
    if {wants_cal}:
        async with CalCom() as cal:
            await _fragment(cal)
    else:
        await _fragment()

asyncio.run(_main())
"""


@pytest.mark.parametrize(
    "block", [b for b in BLOCKS if b.run], ids=lambda b: f"{b.source}:{b.line}"
)
def test_the_block_runs_against_the_fake(
    block: Block, fake: FakeCalCom, written: dict[str, Path], tmp_path: Path
) -> None:
    script = written[block.name]
    if block.fragment:
        script = tmp_path / f"{block.name}_run.py"
        script.write_text(
            block.module() + RUNNER.format(wants_cal=bool(block.params)), encoding="utf-8"
        )
    env = {
        **os.environ,
        "CALCOM_API_KEY": fake.api_key,
        "CALCOM_BASE_URL": fake.base_url,
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
