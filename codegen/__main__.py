"""``python -m codegen``: the OpenAPI document in, ``calcom_async/_generated/`` out.

    python -m codegen [--spec PATH_OR_URL] [--no-verify] [--check] [--out DIR]
    python -m codegen diff OLD NEW      # what changes for users between two releases (Markdown)

Prints every fix it makes to the document, then ``operations N/N schemas M/M``. Fails (exit 1)
if any operation or schema would be dropped, or with ``--check`` if the files on disk differ
from what it would write.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .normalise import normalise
from .overlay import apply_overlay
from .render import render_all
from .spec import ROOT, SpecError, load, pinned_document

DEFAULT_OUT = ROOT / "calcom_async" / "_generated"


def diff_main(argv: list[str]) -> int:
    from .diff import describe, diff

    parser = argparse.ArgumentParser(
        prog="python -m codegen diff",
        description="what changes for users between two releases of the document (Markdown)",
    )
    parser.add_argument("old", help="path or URL of the older document")
    parser.add_argument("new", help="path or URL of the newer document")
    args = parser.parse_args(argv)
    try:
        print(diff(describe(args.old), describe(args.new)), end="")
    except SpecError as exc:
        print(f"codegen: error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["diff"]:
        return diff_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--spec",
        default=str(pinned_document()),
        help="path or URL of the OpenAPI document (default: the pin, openapi/pin.json)",
    )
    parser.add_argument("--no-verify", action="store_true", help="skip the sha256 pin check")
    parser.add_argument("--check", action="store_true", help="fail if the output on disk differs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output package directory")
    parser.add_argument("--quiet", action="store_true", help="print only the summary line")
    args = parser.parse_args(argv)
    try:
        spec = load(args.spec, verify=not args.no_verify)
        apply_overlay(spec)
        normalise(spec)
        result = render_all(spec)
    except SpecError as exc:
        print(f"codegen: error: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        for fix in spec.fixes:
            print(fix)
    out: Path = args.out
    files = result.files
    if args.check:
        existing = (
            {p.relative_to(out).as_posix() for p in out.rglob("*.py")} if out.exists() else set()
        )
        changed = sorted(
            name
            for name, text in files.items()
            if not (out / name).exists() or (out / name).read_text() != text
        )
        stale = sorted(existing - set(files))
        if changed or stale:
            for name in changed:
                print(f"codegen: out of date: {out / name}", file=sys.stderr)
            for name in stale:
                print(f"codegen: not generated any more: {out / name}", file=sys.stderr)
            print("codegen: the committed output differs: run `make generate`", file=sys.stderr)
            return 1
    else:
        if out.exists():
            for path in out.rglob("*.py"):
                if path.relative_to(out).as_posix() not in files:
                    path.unlink()
        for name, text in files.items():
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists() or target.read_text() != text:
                target.write_text(text)
    lines: dict[str, int] = {}
    for name, text in files.items():
        part = name.split("/", 1)[0] if "/" in name else name.removesuffix(".py")
        lines[part] = lines.get(part, 0) + text.count("\n")
    print(
        f"generated {sum(lines.values()):,} lines in {len(files)} files ("
        + ", ".join(f"{part} {n:,}" for part, n in sorted(lines.items(), key=lambda kv: -kv[1]))
        + ")"
    )
    added = f" (+{result.schemas_added} from the overlay)" if result.schemas_added else ""
    print(
        f"operations {result.operations}/{result.operations_in_doc} "
        f"schemas {result.schemas}/{result.schemas_in_doc}{added}"
    )
    if result.operations != result.operations_in_doc or result.schemas != result.schemas_in_doc:
        print("codegen: error: an operation or a schema would be dropped", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
