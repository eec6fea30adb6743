"""Every release of Cal.com's document regenerates into a working package (issue 13).

For each document in ``../shared/openapi/`` (the releases, and the document pinned before): the
generator covers all of its operations and schemas; the package regenerated from it (a scratch
copy of ``calcom_async`` with its own ``_generated/``) imports, passes ``mypy --strict``, and makes
real calls through FakeCalCom (``tests/codegen/_release_drive.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.spec import RELEASES, ROOT, document_counts

# the releases, and the document pinned before the newest (one more release to regenerate)
DOCUMENTS = [*sorted(RELEASES.glob("*.openapi.json")), RELEASES.parent / "calcom-v2.openapi.json"]


def test_the_shared_releases_are_all_here() -> None:
    newest = (RELEASES / "NEWEST").read_text().strip()
    assert (RELEASES / newest) in DOCUMENTS
    assert len(DOCUMENTS) >= 4, DOCUMENTS
    pin = json.loads((ROOT / "openapi" / "pin.json").read_text())
    assert (ROOT / pin["local"]).resolve() == (RELEASES / newest).resolve()
    makefile = (ROOT / "Makefile").read_text()
    assert f"SPEC   ?= ../shared/openapi/releases/{newest}" in makefile


def _regenerate(document: Path, into: Path) -> subprocess.CompletedProcess[str]:
    shutil.copytree(
        ROOT / "calcom_async",
        into / "calcom_async",
        ignore=shutil.ignore_patterns("__pycache__", "_generated"),
    )
    return subprocess.run(
        [
            *(sys.executable, "-m", "codegen", "--spec", str(document), "--no-verify"),
            *("--out", str(into / "calcom_async" / "_generated")),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_a_release_regenerates_imports_type_checks_and_calls(
    document: Path, tmp_path: Path
) -> None:
    result = _regenerate(document, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    ops, schemas = document_counts(json.loads(document.read_text()))
    assert f"operations {ops}/{ops} schemas {schemas}/{schemas}" in result.stdout
    assert "Traceback" not in result.stderr

    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    drive = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "codegen" / "_release_drive.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert drive.returncode == 0, drive.stderr[-3000:]
    seen = json.loads(drive.stdout.strip().splitlines()[-1])
    assert seen["package"] == str(tmp_path / "calcom_async" / "__init__.py")
    assert seen["operations"] == ops
    assert seen["me"] == ["MeOutput", "owner@fakecal.example"]
    assert seen["bookings"][1] == 10 and seen["bookings"][0].startswith("BookingOutput")
    assert seen["webhook"][1] == "https://hooks.example.com/cal"

    typed = subprocess.run(
        [
            *(sys.executable, "-m", "mypy", "--strict", "--python-version", "3.11"),
            *("--cache-dir", str(tmp_path / ".mypy_cache"), "-p", "calcom_async"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert typed.returncode == 0, typed.stdout[-3000:]
    assert "Success: no issues found" in typed.stdout
