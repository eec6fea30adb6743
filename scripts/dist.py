"""Check the built distributions, and smoke-test the wheel installed alone (issue 17).

    python scripts/dist.py check dist/      # what the wheel and the sdist carry (make dist)
    python scripts/dist.py smoke dist/      # the wheel in fresh venvs, bare and per extra

``check``: the wheel holds the package and its metadata and nothing else — ``py.typed``, the
generated code, the fake (``calcom_async.testing``), every module of the source package and no
tests, codegen, docs or caches; the sdist holds what rebuilds and tests the project. Prints the
sizes.

``smoke``: for the bare wheel and for each extra the wheel declares (its ``Provides-Extra``),
a new virtual environment, ``pip install <wheel>[extra]`` (timed), then
``scripts/smoke_installed.py`` in it with ``python -I`` from an empty directory, so nothing of
the source tree can be imported. An extra that the wheel declares is smoke-tested unless it is
one of the development extras below; one with no smoke check fails the run, so that a new
extra cannot go untested.
"""

from __future__ import annotations

import argparse
import email.parser
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "calcom_async"
SMOKE = ROOT / "scripts" / "smoke_installed.py"

#: extras for working on the repository, not features of the library: not smoke-tested
DEVELOPMENT_EXTRAS = frozenset({"codegen", "dev", "bench", "docs"})
#: what each runtime extra installs for its smoke test (the cipher is RedisStore's: with redis)
SMOKED_EXTRAS: dict[str, tuple[str, ...]] = {
    "redis": ("redis",),
    "encryption": ("redis", "encryption"),
    "cli": ("cli",),
    "testing": ("testing",),
}

#: files the runtime needs: a wheel without any of them is broken
WHEEL_REQUIRED = (
    f"{PACKAGE}/__init__.py",
    f"{PACKAGE}/py.typed",
    f"{PACKAGE}/_version.py",
    f"{PACKAGE}/_generated/__init__.py",
    f"{PACKAGE}/_generated/operations.py",
    f"{PACKAGE}/_generated/examples.py",
    f"{PACKAGE}/_generated/models/__init__.py",
    f"{PACKAGE}/_generated/resources/__init__.py",
    f"{PACKAGE}/testing/__main__.py",
)
#: what an sdist must carry to rebuild, regenerate and test the project
SDIST_REQUIRED = (
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "CONTRIBUTING.md",
    "Makefile",
    "mkdocs.yml",
    f"{PACKAGE}/py.typed",
    "codegen/__main__.py",
    "openapi/pin.json",
    "tests/conftest.py",
    "docs/client.md",
)
#: never in any distribution
NEVER = ("__pycache__", ".pyc", ".venv", ".mypy_cache", ".pytest_cache", ".ruff_cache", "site/")


class DistError(Exception):
    """A distribution breaks a rule: the message names the file and the rule."""


def source_modules() -> set[str]:
    """The package's files in the source tree, as paths in the wheel."""
    out = set()
    for path in (ROOT / PACKAGE).rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            out.add(path.relative_to(ROOT).as_posix())
    return out


def wheel_problems(names: Iterable[str], expected: set[str] | None = None) -> list[str]:
    """What is wrong with a wheel holding ``names`` (empty: nothing). ``expected``: the source
    package's files, each of which the wheel must carry."""
    names = set(names)
    problems = []
    dist_info = {n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(".dist-info")}
    if len(dist_info) != 1:
        problems.append(f"expected one .dist-info directory, found {sorted(dist_info) or 'none'}")
    for name in sorted(names):
        top = name.split("/", 1)[0]
        if top != PACKAGE and top not in dist_info:
            problems.append(f"{name}: not part of the {PACKAGE} package")
        elif any(part in name for part in NEVER):
            problems.append(f"{name}: a cache or build output")
    for required in WHEEL_REQUIRED:
        if required not in names:
            problems.append(f"{required}: missing (the runtime needs it)")
    for missing in sorted((expected or set()) - names):
        problems.append(f"{missing}: in the source package but not in the wheel")
    return problems


def sdist_problems(names: Iterable[str]) -> list[str]:
    """What is wrong with an sdist holding ``names`` (each under ``<name>-<version>/``)."""
    inner = {n.split("/", 1)[1] for n in names if "/" in n}
    problems = [f"{r}: missing from the sdist" for r in SDIST_REQUIRED if r not in inner]
    problems += [
        f"{n}: a cache or build output" for n in sorted(inner) if any(p in n for p in NEVER)
    ]
    return problems


def find_dists(dist_dir: Path) -> tuple[Path, Path]:
    wheels = sorted(dist_dir.glob("*.whl"))
    sdists = sorted(dist_dir.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise DistError(
            f"{dist_dir}: expected one wheel and one sdist, found {[p.name for p in wheels]} "
            f"and {[p.name for p in sdists]} (make dist starts from an empty dist/)"
        )
    return wheels[0], sdists[0]


def wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(zf.read(name).decode())


def human(size: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.2f} {unit}"
        size /= 1024
    raise AssertionError  # pragma: no cover


def check(dist_dir: Path) -> None:
    wheel, sdist = find_dists(dist_dir)
    with zipfile.ZipFile(wheel) as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos if not i.is_dir()]
    problems = wheel_problems(names, source_modules())
    with tarfile.open(sdist) as tf:
        problems += sdist_problems(m.name for m in tf.getmembers() if m.isfile())
    if problems:
        raise DistError("\n".join(problems))
    unpacked = sum(i.file_size for i in infos)
    print(
        f"{wheel.name}: {human(wheel.stat().st_size)} ({len(names)} files, "
        f"{human(unpacked)} unpacked); {sdist.name}: {human(sdist.stat().st_size)}; "
        "contents OK"
    )


def run(command: Sequence[str | Path], cwd: Path | None = None) -> None:
    result = subprocess.run([str(c) for c in command], cwd=cwd, check=False)
    if result.returncode != 0:
        raise DistError(f"{' '.join(map(str, command))}: exit status {result.returncode}")


def smoke_one(wheel: Path, version: str, extra: str | None, workdir: Path) -> tuple[float, float]:
    """A fresh venv with the wheel (and ``extra``), the smoke test in it: (venv s, install s)."""
    label = extra or "(no extra)"
    print(f"== {wheel.name} {label}", flush=True)
    venv = workdir / f"venv-{extra or 'bare'}"
    started = time.monotonic()
    run([sys.executable, "-m", "venv", venv])
    made = time.monotonic() - started
    python = venv / "bin" / "python"
    extras = SMOKED_EXTRAS[extra] if extra else ()
    requirement = f"{wheel}[{','.join(extras)}]" if extras else str(wheel)
    started = time.monotonic()
    run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement])
    installed = time.monotonic() - started
    print(f"  venv {made:.1f} s, pip install {installed:.1f} s", flush=True)
    empty = workdir / "cwd"
    empty.mkdir(exist_ok=True)
    args: list[str | Path] = [python, "-I", SMOKE, "--version", version]
    for name in extras:
        args += ["--extra", name]
    run(args, cwd=empty)
    return made, installed


def smoke(dist_dir: Path, only: list[str] | None) -> None:
    wheel, _sdist = find_dists(dist_dir)
    meta = wheel_metadata(wheel)
    declared = meta.get_all("Provides-Extra") or []
    untested = [e for e in declared if e not in DEVELOPMENT_EXTRAS and e not in SMOKED_EXTRAS]
    if untested:
        raise DistError(
            f"the wheel declares extras with no smoke check: {untested} (add a check to "
            "scripts/smoke_installed.py and SMOKED_EXTRAS, or list it in DEVELOPMENT_EXTRAS)"
        )
    targets: list[str | None] = [None, *(e for e in declared if e in SMOKED_EXTRAS)]
    if only is not None:
        unknown = [e for e in only if e != "none" and e not in declared]
        if unknown:
            raise DistError(f"--only: the wheel declares no extra {unknown} (it has {declared})")
        targets = [t for t in targets if (t or "none") in only]
    times = []
    with tempfile.TemporaryDirectory(prefix="calcom-smoke-") as tmp:
        for extra in targets:
            times.append(
                (extra or "(no extra)", *smoke_one(wheel, meta["Version"], extra, Path(tmp)))
            )
    print(f"smoke: {len(times)} environments passed ({wheel.name}, {human(wheel.stat().st_size)})")
    for label, made, installed in times:
        print(f"  {label:<12} venv {made:5.1f} s   pip install {installed:5.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_check = sub.add_parser("check", help="what the wheel and the sdist in DIST carry")
    p_check.add_argument("dist", type=Path)
    p_smoke = sub.add_parser("smoke", help="the wheel in DIST in fresh venvs, bare and per extra")
    p_smoke.add_argument("dist", type=Path)
    p_smoke.add_argument(
        "--only", help="comma-separated: 'none' (the bare wheel) and/or extras", default=None
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            check(args.dist)
        else:
            smoke(args.dist, args.only.split(",") if args.only else None)
    except DistError as exc:
        print(f"dist {args.command}: FAILED\n{exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
