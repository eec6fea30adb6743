"""The types of the blocking facade tell the truth.

``CalComSync`` serves every resource through one generic proxy; its types are the generated
protocols of ``calcom_async/_generated/blocking_resources.py``. These tests compute, from the
generated classes themselves (no hard-coded list):

- every async resource method and property has a blocking twin with the same parameters
  (names, kinds, defaults, annotations) and the return type the proxy really hands back;
- walking a live ``CalComSync`` along the protocols reaches, for every protocol, the async class
  it mirrors; every paginated method really returns a ``SyncPaginator`` (and sends nothing);
- the ``SyncPaginator`` and ``cal.bookings.sync()`` behave as typed, against the fake API;
- the protocols cost nothing at run time (never imported by ``calcom_async.blocking``);
- a hand-written mixin without a blocking twin stops the generator.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Iterator
from typing import Any, Protocol

import pytest

import calcom_async.blocking as blocking
from calcom_async import CalCom, Page, SyncCheckpoint
from calcom_async._generated import blocking_resources
from calcom_async._generated.blocking_client import BlockingNamespaces
from calcom_async._generated.client import GeneratedNamespaces
from calcom_async._generated.models import UserWebhookOutputDto
from calcom_async._generated.operations import OPERATIONS
from calcom_async._resource import BaseResource
from calcom_async.blocking import CalComSync, SyncPaginator
from tests.support.fake_api import FakeAPI, json_reply
from tests.support.leaks import API_KEY
from tests.support.resources import async_resource_classes, wrapped_members
from tests.support.spec import ROOT

WEBHOOKS = [
    {
        "id": f"hook-{n}",  # a UUID on the live API
        "userId": 7,
        "payloadTemplate": "",
        "triggers": ["BOOKING_CREATED"],
        "subscriberUrl": f"https://example.com/hook/{n}",
        "active": True,
    }
    for n in (1, 2, 3)
]


def twin_names() -> set[str]:
    return {
        name
        for module in (blocking_resources, blocking)
        for name in dir(module)
        if name.startswith("Blocking")
    }


def blocking_return(annotation: str) -> str:
    """What the proxy hands back for a member annotated ``annotation`` on the async side."""
    if annotation.startswith("AsyncPaginator["):
        return "SyncPaginator[" + annotation.removeprefix("AsyncPaginator[")
    if "Blocking" + annotation.split("[")[0] in twin_names():  # a sub-resource, the raw twin,
        return "Blocking" + annotation  # BookingSync[…]
    return annotation


def members(cls: type, *, skip: tuple[type, ...]) -> dict[str, Any]:
    """Public members of ``cls`` and its bases up to (not including) ``skip`` and ``object``."""
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if klass is object or klass in skip or klass.__module__ == "typing":
            continue
        found.update({k: v for k, v in vars(klass).items() if not k.startswith("_")})
    return found


def parameters(fn: Any) -> list[tuple[str, Any, Any, Any]]:
    sig = inspect.signature(fn)
    return [(p.name, p.kind, p.default, p.annotation) for p in sig.parameters.values()]


def compare(async_cls: type, twin: type) -> int:
    """Assert that ``twin`` mirrors ``async_cls`` member for member; the number compared."""
    mine = members(async_cls, skip=(BaseResource,))
    wrapped = wrapped_members(async_cls)
    theirs = members(twin, skip=(Protocol,))
    assert sorted(theirs) == sorted(mine | wrapped), twin.__name__
    for name, member in mine.items():
        where = f"{twin.__name__}.{name}"
        other = theirs[name]
        if isinstance(member, property):
            assert isinstance(other, property), where
            member, other = member.fget, other.fget
        assert not inspect.iscoroutinefunction(other), where
        assert parameters(other) == parameters(member), where
        returned = inspect.signature(member).return_annotation
        assert inspect.signature(other).return_annotation == blocking_return(returned), where
    for name, member in wrapped.items():
        where = f"{twin.__name__}.{name} (wrapped)"
        other = theirs[name]
        assert inspect.iscoroutinefunction(member), where
        assert not inspect.iscoroutinefunction(other), where
        assert parameters(other)[1:] == parameters(member), where  # bound: no self
        # the plain method's answer, as an APIResponse (the wrapper's typing)
        returned = f"APIResponse[{inspect.signature(member).return_annotation}]"
        assert inspect.signature(other).return_annotation == returned, where
    return len(mine) + len(wrapped)


def test_every_async_method_has_a_blocking_twin_with_the_same_parameters() -> None:
    classes = list(async_resource_classes())
    assert len(classes) == len(blocking_resources.__all__) > 100
    compared = 0
    for cls in classes:
        twin = getattr(blocking_resources, "Blocking" + cls.__name__)
        compared += compare(cls, twin)
    assert sorted(blocking_resources.__all__) == sorted("Blocking" + c.__name__ for c in classes)
    # every operation, its raw twin, the get_many helpers, sub-resources and cal.bookings.sync
    assert compared > 2 * len(OPERATIONS)
    assert compare(GeneratedNamespaces, BlockingNamespaces) == 19


def test_calcomsync_takes_the_parameters_of_calcom() -> None:
    assert parameters(CalComSync) == parameters(CalCom)
    assert parameters(CalComSync.with_options) == parameters(CalCom.with_options)
    for name in ("base_url", "api_versions", "tokens", "is_closed"):
        ours, theirs = getattr(CalComSync, name), getattr(CalCom, name)
        assert isinstance(ours, property) and isinstance(theirs, property), name
        ann = inspect.signature(ours.fget).return_annotation
        assert ann == inspect.signature(theirs.fget).return_annotation, name


def dummy_call(fn: Any) -> Any:
    """Call a (blocking) method with placeholder path ids and required query values."""
    args, kwargs = [], {}
    for p in inspect.signature(fn).parameters.values():
        if p.default is not inspect.Parameter.empty:
            continue
        if p.kind is inspect.Parameter.POSITIONAL_ONLY:
            args.append("x")
        elif p.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[p.name] = "x"
    return fn(*args, **kwargs)


def test_the_proxy_hands_back_what_the_protocols_say(api: FakeAPI) -> None:
    seen: set[str] = set()
    paginators = syncs = 0

    def walk(proxy: Any, protocol: type) -> None:
        nonlocal paginators, syncs
        seen.add(protocol.__name__)
        assert type(proxy._target).__name__ == protocol.__name__.removeprefix("Blocking")
        for name, member in members(protocol, skip=(Protocol,)).items():
            where = f"{protocol.__name__}.{name}"
            value = getattr(proxy, name)
            if isinstance(member, property):
                returned = inspect.signature(member.fget).return_annotation
                walk(value, getattr(blocking_resources, returned))
                continue
            assert callable(value), where
            assert parameters(value) == parameters(member)[1:], where  # bound: no self
            returned = inspect.signature(member).return_annotation
            if returned.startswith("SyncPaginator["):
                assert isinstance(dummy_call(value), SyncPaginator), where
                paginators += 1
            elif returned == "BlockingBookingSync[SyncedBooking]":
                sync = value()
                assert isinstance(sync.checkpoint, SyncCheckpoint), where
                assert sync.pages == 0 and sync.checkpoint_key is None, where
                assert callable(sync.__iter__), where
                raw = sync.raw()  # BlockingBookingSync[dict[str, Any]]: a blocking twin too
                assert isinstance(raw.checkpoint, SyncCheckpoint) and callable(raw.__iter__)
                syncs += 1

    with CalComSync(api_key=API_KEY) as cal:
        for name, prop in members(BlockingNamespaces, skip=()).items():
            returned = inspect.signature(prop.fget).return_annotation
            walk(getattr(cal, name), getattr(blocking_resources, returned))
    assert seen == set(blocking_resources.__all__)
    assert paginators == sum(op.pagination is not None for op in OPERATIONS)
    assert syncs == 1  # cal.bookings.sync
    assert api.calls == []  # building paginators and syncs sends nothing


def webhook_pages(call: Any) -> Any:
    skip, take = int(call.url.query["skip"]), int(call.url.query["take"])
    return json_reply(
        {
            "status": "success",
            "data": WEBHOOKS[skip : skip + take],
            "pagination": {"totalItems": len(WEBHOOKS)},
        }
    )


def test_sync_paginator_iterates_pages_and_collects(api: FakeAPI) -> None:
    api.default = webhook_pages
    with CalComSync(api_key=API_KEY) as cal:
        hooks = cal.webhooks.list(page_size=2)
        assert isinstance(hooks, SyncPaginator) and hooks.page_size == 2
        assert api.calls == []  # lazy
        items = list(hooks)
        assert all(isinstance(h, UserWebhookOutputDto) for h in items)
        assert [h.id for h in items] == ["hook-1", "hook-2", "hook-3"]
        assert len(api.calls) == 2
        assert [h.id for h in hooks] == ["hook-1", "hook-2", "hook-3"]  # each `for` walks again
        assert len(api.calls) == 4
        pages = hooks.pages()
        assert isinstance(pages, Iterator)
        got = [(p.offset, len(p.items), p.total) for p in pages]
        assert got == [(0, 2, 3), (2, 1, 3)]
        assert all(isinstance(p, Page) for p in hooks.pages())
        del api.calls[:]
        assert [h.id for h in hooks.to_list(max_items=2)] == ["hook-1", "hook-2"]
        assert len(api.calls) == 1  # pages beyond max_items are not fetched
        rows = hooks.raw()
        assert isinstance(rows, SyncPaginator)
        assert rows.to_list() == WEBHOOKS
        assert "AsyncPaginator" in repr(hooks)


def test_bookings_sync_is_a_blocking_iterable_with_its_checkpoint(api: FakeAPI) -> None:
    meta = dict.fromkeys(
        ("totalItems", "remainingItems", "returnedItems", "itemsPerPage", "currentPage"), 0
    )
    meta |= {"totalPages": 0, "hasNextPage": False, "hasPreviousPage": False}
    api.default = json_reply({"status": "success", "data": [], "pagination": meta})
    with CalComSync(api_key=API_KEY) as cal:
        sync = cal.bookings.sync(page_size=10)
        assert list(sync) == []
        assert sync.pages == 1
        assert isinstance(sync.checkpoint, SyncCheckpoint)
        assert sync.checkpoint.watermark is None
    (call,) = api.calls
    assert call.path == "/v2/bookings"
    assert call.url.query["sortCreated"] == "desc"  # the first pass: every booking, newest first


def test_the_protocols_are_not_imported_at_run_time() -> None:
    code = (
        "import sys\n"
        "from calcom_async.blocking import CalComSync\n"
        "with CalComSync(api_key='cal_test_key') as cal:\n"
        "    cal.organizations.teams.memberships.list(1, 2)\n"
        "    cal.bookings.with_raw_response\n"
        "loaded = sorted(m for m in sys.modules if 'blocking_resources' in m)\n"
        "assert loaded == [], loaded\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", ["store", "session"])
def test_untyped_client_attributes_still_reach_the_async_client(api: FakeAPI, name: str) -> None:
    """Not part of the typed facade (their methods are async, bound to the portal's loop), but
    still reachable as before."""
    with CalComSync(api_key=API_KEY) as cal:
        assert getattr(cal, name) is getattr(cal._client, name)
        assert name in dir(cal)


def test_a_mixin_without_a_blocking_twin_stops_the_generator() -> None:
    code = (
        "import sys, codegen.render as render\n"
        "from codegen.__main__ import main\n"
        "render.BLOCKING_MIXINS.clear()\n"
        "sys.exit(main(['--out', '/dev/null/never-written', '--check', '--quiet']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1
    assert "calcom_async._sync:BookingsSyncMixin (cal.bookings) has no blocking twin" in done.stderr
