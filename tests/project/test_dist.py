"""The rules ``make dist`` checks a built wheel and sdist against (``scripts/dist.py``), on
made-up file lists: each rule catches what it is for. The real wheel is built and installed
alone by ``make smoke`` (CI), which these tests do not replace."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.support.files import ROOT, load_module


@pytest.fixture(scope="module")
def dist() -> ModuleType:
    return load_module("dist_script", ROOT / "scripts" / "dist.py")


def good_wheel(dist: ModuleType) -> set[str]:
    return set(dist.WHEEL_REQUIRED) | {
        "calcom_async/_client.py",
        "calcom_async-1.0.dist-info/METADATA",
        "calcom_async-1.0.dist-info/RECORD",
        "calcom_async-1.0.dist-info/licenses/LICENSE",
    }


def test_a_complete_wheel_passes(dist: ModuleType) -> None:
    names = good_wheel(dist)
    assert dist.wheel_problems(names, expected={"calcom_async/_client.py"}) == []


@pytest.mark.parametrize(
    ("extra", "complaint"),
    [
        ("tests/test_models.py", "not part of the calcom_async package"),
        ("codegen/__main__.py", "not part of the calcom_async package"),
        ("conftest.py", "not part of the calcom_async package"),
        ("calcom_async/__pycache__/x.cpython-311.pyc", "a cache or build output"),
    ],
)
def test_anything_besides_the_package_is_refused(
    dist: ModuleType, extra: str, complaint: str
) -> None:
    problems = dist.wheel_problems(good_wheel(dist) | {extra})
    assert problems == [f"{extra}: {complaint}"]


@pytest.mark.parametrize(
    "required",
    [
        "calcom_async/py.typed",
        "calcom_async/_generated/operations.py",
        "calcom_async/testing/__main__.py",
    ],
)
def test_what_the_runtime_needs_is_required(dist: ModuleType, required: str) -> None:
    problems = dist.wheel_problems(good_wheel(dist) - {required})
    assert problems == [f"{required}: missing (the runtime needs it)"]


def test_a_source_module_left_out_of_the_wheel_is_named(dist: ModuleType) -> None:
    problems = dist.wheel_problems(good_wheel(dist), expected={"calcom_async/stores.py"})
    assert problems == ["calcom_async/stores.py: in the source package but not in the wheel"]


def test_the_source_package_has_what_the_wheel_must_carry(dist: ModuleType) -> None:
    assert set(dist.WHEEL_REQUIRED) <= dist.source_modules()


def test_the_sdist_must_carry_what_rebuilds_and_tests_the_project(dist: ModuleType) -> None:
    names = [f"calcom_async-1.0/{name}" for name in dist.SDIST_REQUIRED]
    assert dist.sdist_problems(names) == []
    missing = [n for n in names if not n.endswith("/LICENSE")]
    assert dist.sdist_problems(missing) == ["LICENSE: missing from the sdist"]
    cached = [*names, "calcom_async-1.0/tests/__pycache__/conftest.cpython-311.pyc"]
    assert dist.sdist_problems(cached) == [
        "tests/__pycache__/conftest.cpython-311.pyc: a cache or build output"
    ]


def test_an_extra_without_a_smoke_check_fails_the_smoke_run(
    dist: ModuleType, tmp_path: Path
) -> None:
    import zipfile

    (tmp_path / "x-1.0.tar.gz").write_bytes(b"")
    with zipfile.ZipFile(tmp_path / "x-1.0-py3-none-any.whl", "w") as zf:
        zf.writestr(
            "x-1.0.dist-info/METADATA",
            "Metadata-Version: 2.4\nName: x\nVersion: 1.0\nProvides-Extra: redis\n"
            "Provides-Extra: dev\nProvides-Extra: gizmo\n",
        )
    with pytest.raises(dist.DistError, match=r"no smoke check: \['gizmo'\]"):
        dist.smoke(tmp_path, None)
