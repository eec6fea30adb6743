"""Public names: tag -> namespace, operationId -> method name (openapi/names.yaml overrides)."""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from typing import Any

import yaml

NAMES = Path(__file__).resolve().parent.parent / "openapi" / "names.yaml"
_VERSION = re.compile(r"^(\d{4})_(\d{2})_(\d{2})_")


def snake(name: str) -> str:
    name = name.replace("OAuth", "Oauth").replace("-", "_").replace(" ", "_")
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"[^0-9a-zA-Z_]", "_", name).lower()
    name = re.sub(r"_+", "_", name).strip("_")
    if not name or name[0].isdigit():
        name = "_" + name
    if keyword.iskeyword(name) or name in {"self", "cls"}:
        name += "_"
    return name


def singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def load_names() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(NAMES.read_text()) or {}
    data.setdefault("namespaces", {})
    data.setdefault("methods", {})
    data.setdefault("mixins", {})
    return data


def default_namespace(tag: str) -> str:
    """ "Orgs / Teams / Event Types" -> "organizations.teams.event_types"."""
    parts = [p.strip() for p in tag.split("/") if p.strip()]
    out = []
    for part in parts:
        word = snake(part)
        out.append({"orgs": "organizations", "platform": ""}.get(word, word))
    return ".".join(w for w in out if w) or "misc"


def default_method(operation_id: str, namespace: str, method: str, path: str) -> str:
    """``BookingsController_2024_08_13_cancelBooking`` in ``bookings`` -> ``cancel``."""
    base = operation_id.split("_", 1)[1] if "Controller_" in operation_id else operation_id
    base = _VERSION.sub("", base)
    words = snake(base).split("_")
    ns_words = {singular(w) for part in namespace.split(".") for w in part.split("_")}
    ns_words |= {"org", "organization", "team", "user", "my", "oauth", "client"} & (
        ns_words | {"org", "organization", "my"}
    )
    verb, rest = words[0], [w for w in words[1:] if singular(w) not in ns_words]
    if rest[-2:] == ["by", "id"]:
        rest = rest[:-2]
    ends_with_param = path.rstrip("/").endswith("}")
    if method == "get" and verb == "get" and rest in ([], ["all"]):
        return "get" if ends_with_param else "list"
    return "_".join([verb, *rest])
