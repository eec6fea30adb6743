"""Pytest fixtures for tests of code that uses calcom-async.

Enable with ``pytest_plugins = ["calcom_async.testing.pytest_plugin"]`` in a ``conftest.py``
(or ``-p calcom_async.testing.pytest_plugin``). Needs pytest-asyncio (or anyio's plugin) for the
async fixtures.

- ``fake_calcom``: a started :class:`FakeCalCom` (closed after the test);
- ``fake_calcom_client``: a :class:`calcom_async.CalCom` with the fake's API key.

Customise the fake by overriding the ``fake_calcom_options`` fixture (a dict of
``FakeCalCom(...)`` arguments).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from ._server import FakeCalCom

if TYPE_CHECKING:
    from .._client import CalCom

__all__ = ["fake_calcom", "fake_calcom_client", "fake_calcom_options"]


@pytest.fixture
def fake_calcom_options() -> dict[str, Any]:
    """Arguments for ``FakeCalCom(...)``; override this fixture to change them."""
    return {}


@pytest_asyncio.fixture
async def fake_calcom(fake_calcom_options: dict[str, Any]) -> AsyncIterator[FakeCalCom]:
    async with FakeCalCom(**fake_calcom_options) as fake:
        yield fake


@pytest_asyncio.fixture
async def fake_calcom_client(fake_calcom: FakeCalCom) -> AsyncIterator[CalCom]:
    async with fake_calcom.client() as client:
        yield client
