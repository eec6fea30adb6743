"""What every test needs: the scan for leaked secrets (``tests/support/leaks.py``, autouse) and a
process with no rate-limit history. Everything else is in the conftest of the folder whose tests
use it (tests/README.md)."""

from __future__ import annotations

import pytest

from calcom_async._limiters import PROCESS_LIMITERS

pytest_plugins = ["tests.support.leaks"]


@pytest.fixture(autouse=True)
def fresh_budgets() -> None:
    """Every test starts as a process with no rate-limit history: the budgets a test spent are
    kept past its clients (one budget per credential per process, ``calcom_async._limiters``)
    and would otherwise pace the next test's calls to the same server with the same key."""
    PROCESS_LIMITERS.clear()
