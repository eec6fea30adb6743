"""Run by tests/codegen/test_releases.py in a child process whose ``calcom_async`` is a copy
regenerated from another release: a few calls through FakeCalCom with that package (``me``, one
page of bookings, a webhook create). Prints one JSON line of what came back."""

from __future__ import annotations

import json
import sys

import anyio

import calcom_async
from calcom_async._generated.operations import BY_NAME
from calcom_async.testing import FakeCalCom


async def main() -> None:
    out: dict[str, object] = {"package": calcom_async.__file__, "operations": len(BY_NAME)}
    async with FakeCalCom() as fake:
        fake.seed(bookings=30)
        async with fake.client() as cal:
            me = await cal.me.get()
            out["me"] = [type(me).__name__, me.email]
            page = await cal.bookings.list(take=10)
            out["bookings"] = [type(page[0]).__name__, len(page)]
            hook = await cal.webhooks.create(
                subscriber_url="https://hooks.example.com/cal",
                triggers=["BOOKING_CREATED"],
                active=True,
                secret="release-test-secret",
            )
            out["webhook"] = [type(hook).__name__, hook.subscriber_url]
    print(json.dumps(out))


if __name__ == "__main__":
    anyio.run(main)
    sys.exit(0)
