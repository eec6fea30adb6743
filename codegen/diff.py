"""``python -m codegen diff OLD NEW``: what changes for users between two releases of the document.

Both documents go through the whole generator (overlay, normalisation, naming), so the list shows
the client's view: operations added and removed, methods renamed, operations newly deprecated,
``cal-api-version`` values, component schemas added and removed, and models renamed. The output is
Markdown (the form ``CHANGELOG.md`` takes it in).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .normalise import normalise
from .overlay import apply_overlay
from .render import render_all
from .spec import load

_SCHEMA = "#/components/schemas/"


@dataclass
class Release:
    """The facts of one release that users see, keyed so two releases compare."""

    ops: dict[tuple[str, str], tuple[str, str | None, str | None]]  # (METHOD, path) -> facts
    schemas: dict[str, tuple[str, frozenset[str]]]  # schema -> (class name, property names)
    versions: set[str]


def describe(source: str) -> Release:
    spec = load(source, verify=False)
    apply_overlay(spec)
    normalise(spec)
    result = render_all(spec)
    ops = {
        (op.http_method, op.path): (op.public_name, op.api_version, op.deprecated)
        for op in result.ops
    }
    components: dict[str, Any] = spec.doc.get("components", {}).get("schemas", {})
    schemas = {
        ref[len(_SCHEMA) :]: (
            name,
            frozenset(components[ref[len(_SCHEMA) :]].get("properties", {})),
        )
        for ref, name in result.classes.items()
        if ref.startswith(_SCHEMA) and ref.count("/") == 3 and ref[len(_SCHEMA) :] in components
    }
    versions = {v for _name, v, _d in ops.values() if v}
    return Release(ops=ops, schemas=schemas, versions=versions)


def _section(title: str, lines: list[str]) -> list[str]:
    return [f"#### {title} ({len(lines)})", "", *lines, ""] if lines else []


def diff(old: Release, new: Release) -> str:
    """The differences from ``old`` to ``new`` as Markdown sections (empty ones left out)."""
    added = sorted(new.ops.keys() - old.ops.keys(), key=lambda k: (k[1], k[0]))
    removed = sorted(old.ops.keys() - new.ops.keys(), key=lambda k: (k[1], k[0]))
    both = sorted(old.ops.keys() & new.ops.keys(), key=lambda k: (k[1], k[0]))

    def op(key: tuple[str, str], facts: tuple[str, str | None, str | None]) -> str:
        name, version, deprecated = facts
        extra = f", `cal-api-version: {version}`" if version else ""
        extra += ", deprecated" if deprecated else ""
        return f"- `{key[0]} {key[1]}`: `cal.{name}()`{extra}"

    renamed = [
        f"- `{k[0]} {k[1]}`: `cal.{old.ops[k][0]}()` is now `cal.{new.ops[k][0]}()`"
        for k in both
        if old.ops[k][0] != new.ops[k][0]
    ]
    deprecated = [
        f"- `cal.{new.ops[k][0]}()` (`{k[0]} {k[1]}`): {new.ops[k][2]}"
        for k in both
        if new.ops[k][2] and not old.ops[k][2]
    ]
    undeprecated = [
        f"- `cal.{new.ops[k][0]}()` (`{k[0]} {k[1]}`)"
        for k in both
        if old.ops[k][2] and not new.ops[k][2]
    ]
    versions = [f"- `{v}` added" for v in sorted(new.versions - old.versions)]
    versions += [f"- `{v}` no longer used" for v in sorted(old.versions - new.versions)]
    versions += [
        f"- `cal.{new.ops[k][0]}()` sends `{new.ops[k][1]}` (was `{old.ops[k][1]}`)"
        for k in both
        if old.ops[k][1] != new.ops[k][1]
    ]
    gone = sorted(old.schemas.keys() - new.schemas.keys())
    came = sorted(new.schemas.keys() - old.schemas.keys())
    # a schema gone and one come with the same (non-empty) properties, one to one: renamed
    model_renames = []
    for name in list(gone):
        props = old.schemas[name][1]
        twins_old = [g for g in gone if old.schemas[g][1] == props]
        twins_new = [c for c in came if new.schemas[c][1] == props]
        if props and len(twins_old) == 1 and len(twins_new) == 1:
            gone.remove(name)
            came.remove(twins_new[0])
            model_renames.append(
                f"- `models.{old.schemas[name][0]}` is now `models.{new.schemas[twins_new[0]][0]}`"
            )
    model_renames += [
        f"- `models.{old.schemas[s][0]}` is now `models.{new.schemas[s][0]}` (schema `{s}`)"
        for s in sorted(old.schemas.keys() & new.schemas.keys())
        if old.schemas[s][0] != new.schemas[s][0]
    ]
    lines = [
        *_section("Operations added", [op(k, new.ops[k]) for k in added]),
        *_section("Operations removed", [op(k, old.ops[k]) for k in removed]),
        *_section("Methods renamed", renamed),
        *_section("Deprecated by Cal.com", deprecated),
        *_section("No longer deprecated", undeprecated),
        *_section("API versions", versions),
        *_section("Models added", [f"- `models.{new.schemas[s][0]}`" for s in came]),
        *_section("Models removed", [f"- `models.{old.schemas[s][0]}`" for s in gone]),
        *_section("Models renamed", model_renames),
    ]
    return "\n".join(lines).rstrip() + "\n" if lines else "No differences.\n"
