"""The test secrets, and the scan that fails a test if one leaks (a pytest plugin: the root
conftest registers it, so the scan runs around every test).

Every test secret contains ``SECRET`` (upper case). The autouse ``leak_scan`` fixture records every
object built from a ``calcom_async`` class during a test (exceptions included) and every log record
of the ``calcom_async`` logger, and fails the test if ``SECRET`` appears in a ``repr``, ``str``,
formatted traceback or log line. ``@pytest.mark.leaks_expected`` turns it off (its own tests).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import traceback
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

import calcom_async

MARKER = "SECRET"
API_KEY = "cal_test_SECRETKEY_0123456789abcdef"
CLIENT_ID = "clxyz-client-id"
CLIENT_SECRET = "SECRET_CLIENT_SECRET_f6g7h8"
ACCESS_TOKEN = "SECRET_ACCESS_TOKEN_0001"
REFRESH_TOKEN = "SECRET_REFRESH_TOKEN_0001"
NEW_ACCESS_TOKEN = "SECRET_ACCESS_TOKEN_0002"
NEW_REFRESH_TOKEN = "SECRET_REFRESH_TOKEN_0002"


def find_leaks(objects: Iterable[Any], records: Iterable[logging.LogRecord]) -> list[str]:
    """Texts (reprs, strs, tracebacks, log lines) that contain a test secret."""
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    leaks = []
    for record in records:
        text = formatter.format(record)
        if MARKER in text:
            leaks.append(f"log record: {text}")
    for obj in objects:
        texts = [repr(obj), str(obj)]
        if isinstance(obj, BaseException):
            texts.append("".join(traceback.format_exception(obj)))
        leaks.extend(f"{type(obj).__name__}: {t}" for t in texts if MARKER in t)
    return leaks


def _our_classes() -> Iterator[type]:
    names = [
        m.name
        for m in pkgutil.iter_modules(calcom_async.__path__, "calcom_async.")
        if not m.name.startswith("calcom_async._generated")
    ]
    for name in names:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and value.__module__ == name
                and "__init__" in value.__dict__
                and not issubclass(value, type)
            ):
                yield value


@pytest.fixture(autouse=True)
def leak_scan(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> Iterator[list[Any]]:
    created: list[Any] = []

    def track(cls: type) -> None:
        original = cls.__dict__["__init__"]

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            created.append(self)

        monkeypatch.setattr(cls, "__init__", __init__)

    for cls in _our_classes():
        track(cls)
    caplog.set_level(logging.DEBUG, logger="calcom_async")
    yield created
    if request.node.get_closest_marker("leaks_expected"):
        return
    records = caplog.get_records("setup") + caplog.get_records("call")
    leaks = find_leaks(created, records)
    if leaks:
        pytest.fail("secrets leaked:\n" + "\n".join(leaks[:10]), pytrace=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "leaks_expected: skip the secret scan (its own tests)")
