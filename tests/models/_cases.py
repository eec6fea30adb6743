"""What several models tests share: the document's component schemas and an example answer of
every operation, and Hypothesis strategies that build any generated type."""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

import attrs
from hypothesis import strategies as st

from calcom_async._generated import models
from calcom_async._generated.operations import OPERATIONS
from calcom_async._serde import unstructure
from calcom_async._types import UNSET, OpenStrEnum, Unset
from codegen.examples import ExampleBuilder
from tests.support.spec import normalised_spec


def component_refs() -> list[tuple[str, str]]:
    return sorted(
        (name, ref)
        for name, ref in models.SCHEMA_REFS.items()
        if ref.startswith("#/components/schemas/") and ref.count("/") == 3
    )


def response_examples() -> list[tuple[str, Any, Any]]:
    spec = normalised_spec()
    builder = ExampleBuilder(spec.doc)
    raw = {op["operationId"]: op for _, _, op in spec.operations()}
    out = []
    for op in OPERATIONS:
        if op.response is None:
            continue
        responses = raw[op.operation_id]["responses"]
        code = min(c for c in responses if c.startswith("2"))
        schema = responses[code]["content"]["application/json"]["schema"]
        out.append((op.operation_id, op, builder.build(schema)))
    return out


_json_scalars = st.none() | st.booleans() | st.integers(-(2**31), 2**31) | st.text(max_size=8)
_json = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
_datetimes = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))


def strategy(tp: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    origin = get_origin(tp)
    if tp is Any:
        return _json
    if tp is Unset:
        return st.just(UNSET)
    if tp is type(None):
        return st.none()
    if origin in (Union, types.UnionType):
        members = [m for m in get_args(tp) if not (depth > 3 and attrs.has(m))]
        # every member is generated; the data alone must bring the right one back
        return st.one_of([strategy(m, depth + 1) for m in members])
    if origin is Literal:
        return st.sampled_from(get_args(tp))
    if origin is list:
        return st.lists(strategy(get_args(tp)[0], depth + 1), max_size=2 if depth < 3 else 0)
    if origin is dict:
        return st.dictionaries(st.text(max_size=5), _json, max_size=2)
    if tp is dt.datetime:
        return _datetimes
    if tp is float:
        return st.integers(-(10**6), 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    if tp is int:
        return st.integers(-(10**6), 10**6)
    if tp is bool:
        return st.booleans()
    if tp is str:
        return st.text(max_size=10)
    if isinstance(tp, type) and issubclass(tp, OpenStrEnum):
        return st.sampled_from(list(tp))
    if attrs.has(tp):
        hints = typing.get_type_hints(tp)
        return st.builds(
            tp, **{a.name: strategy(hints[a.name], depth + 1) for a in attrs.fields(tp)}
        )
    raise NotImplementedError(tp)


def ambiguous(a: Any, b: Any) -> bool:
    """``a`` and ``b`` differ only where a union member of one class came back as another."""
    if type(a) is not type(b):
        return attrs.has(type(a)) and attrs.has(type(b)) and unstructure(a) == unstructure(b)
    if attrs.has(type(a)):
        return all(ambiguous(getattr(a, f.name), getattr(b, f.name)) for f in attrs.fields(type(a)))
    if isinstance(a, list):
        return len(a) == len(b) and all(ambiguous(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
