"""Every row of the operation table, through its generated method, on the wire.

For each operation the generated method (found by ``op.name``) and its raw twin are called with
values built from the row's ``Param`` annotations (path values that need encoding, every query
parameter set) and, when there is one, a body built from the body model's required fields. The
test checks the HTTP method, the URL (path values encoded as one segment), the query, the
version and auth headers and the JSON body, and that the method returns the right type. A new
row in the table is covered with no new test code.
"""

from __future__ import annotations

import collections.abc
import datetime as dt
import inspect
import types
import warnings
from typing import Any, Literal, Union, get_args, get_origin
from urllib.parse import quote

import orjson
import pytest

from calcom_async import APIResponse
from calcom_async._generated.operations import OPERATIONS
from calcom_async._operation import AuthMode, Operation, Param
from calcom_async._serde import converter
from calcom_async._types import Unset
from tests.support.fake_api import BASE, FakeAPI, json_reply
from tests.support.leaks import API_KEY, CLIENT_ID, CLIENT_SECRET
from tests.support.samples import WHEN, sample
from tests.support.spec import document_counts

WHEN_TEXT = "2026-03-04T05:06:07Z"
PATH_TEXT = "p/ 1?ü"  # must arrive as ONE segment
PATH_INT = 4021
BEARER = {AuthMode.API_KEY, AuthMode.ACCESS_TOKEN}
PAGE_CONTROLS = frozenset({"take", "skip", "limit", "offset", "cursor"})


# -- argument values from Param types (and the wire form the server must see) ----------


def _base(tp: Any) -> Any:
    """The type of a parameter without ``Unset``/``None`` (a union: its first member)."""
    if get_origin(tp) in (Union, types.UnionType):
        kept = [m for m in get_args(tp) if m not in (Unset, type(None))]
        return kept[0] if kept else str
    return tp


def argument(param: Param) -> tuple[Any, list[str]]:
    """A value for the parameter and the query/path texts it must produce."""
    tp = _base(param.type)
    if get_origin(tp) in (list, tuple, collections.abc.Sequence):
        inner = _base(get_args(tp)[0])
        values = [_scalar(inner, n) for n in (0, 1)]
        return [v for v, _ in values], [t for _, t in values]
    value, text = _scalar(tp, 0)
    return value, [text]


def _scalar(tp: Any, n: int) -> tuple[Any, str]:
    if get_origin(tp) is Literal:
        options = get_args(tp)
        choice = options[min(n, len(options) - 1)]
        return choice, str(choice)
    simple: dict[Any, tuple[Any, str]] = {
        str: (f"{PATH_TEXT}{n}", f"{PATH_TEXT}{n}"),
        int: (PATH_INT + n, str(PATH_INT + n)),
        float: (2.5 + n, str(2.5 + n)),
        bool: (True, "true"),
        dt.datetime: (WHEN, WHEN_TEXT),
        dt.date: (WHEN.date(), WHEN.date().isoformat()),
    }
    if tp in simple:
        return simple[tp]
    raise AssertionError(f"the test cannot build a value for {tp!r}: teach it")


def _kind(value: Any) -> Any:
    return list if isinstance(value, list) else type(value)


# -- the test ---------------------------------------------------------------------------------


def _method(cal: Any, op: Operation, raw: bool) -> Any:
    *namespaces, last = op.name.split(".")
    target = cal
    for name in namespaces:
        target = getattr(target, name)
    if raw:
        target = target.with_raw_response
    return getattr(target, last)


def _without_paging(op: Operation, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The query without the page controls a paginated method manages itself."""
    skip = PAGE_CONTROLS if op.pagination is not None else frozenset()
    return sorted(pair for pair in pairs if pair[0] not in skip)


def _expected_auth(op: Operation) -> dict[str, str]:
    bearer = {"Authorization": f"Bearer {API_KEY}"}
    platform = {"x-cal-client-id": CLIENT_ID, "x-cal-secret-key": CLIENT_SECRET}
    if not op.auth:  # no auth declared: the bearer credential, never the platform secret
        return bearer
    expected: dict[str, str] = {}
    if op.auth & BEARER:
        expected.update(bearer)
    if AuthMode.PLATFORM in op.auth:
        expected.update(platform)
    return expected


def test_the_table_is_complete() -> None:
    assert len(OPERATIONS) == document_counts()[0]
    assert len({op.name for op in OPERATIONS}) == len(OPERATIONS)


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
async def test_operation_on_the_wire(make_client: Any, api: FakeAPI, op: Operation) -> None:
    cal = make_client(api_key=API_KEY, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    by_python_name = {p.python_name: p for p in op.params}

    response_cls = op.response_type()
    answer = sample(response_cls) if response_cls is not None else None
    answer_json = converter.unstructure(answer) if answer is not None else None
    undocumented: Any = {"status": "success", "data": []} if op.pagination else {}
    api.default = json_reply(answer_json if answer_json is not None else undocumented)

    method = _method(cal, op, raw=False)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    path = op.path
    query: list[tuple[str, str]] = []
    body: Any = None
    for parameter in inspect.signature(method).parameters.values():
        if parameter.name == "request_options":
            continue
        if parameter.name == "body" and op.body is not None:
            body = sample(op.body_type())
            kwargs["body"] = body
            continue
        param = by_python_name.get(parameter.name)
        if param is None:  # a body field given as a keyword: left to the body
            continue
        value, texts = argument(param)
        if param.name in ("take", "limit") and param.location == "query":
            value, texts = 7, ["7"]  # a page size within the operation's maximum
        if param.location == "path":
            path = path.replace("{" + param.name + "}", quote(texts[0], safe=""))
        elif param.location == "query":
            if param.explode or len(texts) == 1:
                query.extend((param.name, t) for t in texts)
            else:
                query.append((param.name, ",".join(texts)))
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
            args.append(value)
        else:
            kwargs[parameter.name] = value
    assert "{" not in path, f"{op.name}: path values missing from the signature: {path}"

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = await method(*args, **kwargs)
        raw = await _method(cal, op, raw=True)(*args, **kwargs)
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    if op.deprecated:  # said at the caller's line, by the method and its raw twin
        assert [w.filename for w in deprecations] == [__file__, __file__], deprecations
        assert f"cal.{op.name}() is deprecated" in str(deprecations[0].message)
        assert ".. deprecated::" in (method.__doc__ or "")
    else:
        assert not deprecations, deprecations

    assert len(api.calls) == 2
    for call in api.calls:
        assert call.method == op.method
        assert call.path == path
        assert str(call.url).startswith(f"{BASE}{path}")
        assert _without_paging(op, call.params) == _without_paging(op, query)
        assert call.headers.get("cal-api-version") == op.api_version
        sent_auth = {
            k: v
            for k, v in call.headers.items()
            if k in ("Authorization", "x-cal-client-id", "x-cal-secret-key")
        }
        assert sent_auth == _expected_auth(op)
        if body is not None:
            assert call.headers["Content-Type"] == "application/json"
            assert call.json() == orjson.loads(orjson.dumps(converter.unstructure(body)))
        else:
            assert call.data is None

    assert isinstance(raw, APIResponse) and raw.status_code == 200
    if answer is None:  # an undocumented answer: the decoded JSON as the server sent it
        assert result == ([] if op.pagination else {})
        assert raw.data == undocumented
    else:
        expected = answer.data if op.unwrap else answer
        assert _kind(result) is _kind(expected)
        assert _kind(raw.data) is _kind(expected)


async def test_the_platform_secret_goes_only_where_declared(make_client: Any, api: FakeAPI) -> None:
    cal = make_client(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    api.default = json_reply({"status": "success", "data": {}})
    await cal.slots.get_available(start="2050-01-01", end="2050-01-02", event_type_id=1)
    sent = api.calls[-1].headers
    assert "x-cal-secret-key" not in sent and "x-cal-client-id" not in sent
    assert "Authorization" not in sent
