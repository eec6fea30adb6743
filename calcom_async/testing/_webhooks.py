"""Webhook delivery: signed POSTs to the subscribers registered through the webhooks API."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    import aiohttp

__all__ = ["Deliveries", "Delivery", "DeliveryAttempt", "sign"]


def sign(secret: str, body: bytes) -> str:
    """``X-Cal-Signature-256``: lower-case hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class DeliveryAttempt:
    status: int | None  #: the subscriber's HTTP status, None if the connection failed
    error: str | None
    at: float


@dataclass
class Delivery:
    """One event sent to one webhook (with its retries)."""

    webhook_id: int
    url: str
    trigger: str
    body: bytes  #: the exact bytes sent (and signed)
    headers: dict[str, str]
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    delivered: bool = False
    done: bool = False

    @property
    def payload(self) -> Any:
        return orjson.loads(self.body)


class Deliveries:
    """Every delivery the fake made; ``await fake.deliveries.wait(n)`` for the first n to end."""

    def __init__(self, *, retries: int = 3, backoff: float = 0.05, timeout: float = 5.0) -> None:
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.items: list[Delivery] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Condition()
        self._session: aiohttp.ClientSession | None = None

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Any:
        return iter(self.items)

    def publish(
        self, webhook: dict[str, Any], trigger: str, payload: dict[str, Any], at: str
    ) -> None:
        """Queue one signed delivery (called by the store when a booking changes)."""
        template = webhook.get("payloadTemplate")
        if template:
            body = _render(template, trigger, payload).encode()
        else:
            body = orjson.dumps({"triggerEvent": trigger, "createdAt": at, "payload": payload})
        headers = {"Content-Type": "application/json", "User-Agent": "FakeCalCom-Webhooks"}
        secret = webhook.get("secret")
        if secret:
            headers["X-Cal-Signature-256"] = sign(secret, body)
        delivery = Delivery(webhook["id"], webhook["subscriberUrl"], trigger, body, headers)
        self.items.append(delivery)
        task = asyncio.get_running_loop().create_task(self._deliver(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: Delivery) -> None:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        for attempt in range(self.retries + 1):
            status: int | None = None
            error: str | None = None
            try:
                async with self._session.post(
                    delivery.url, data=delivery.body, headers=delivery.headers
                ) as response:
                    status = response.status
                    await response.read()
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            delivery.attempts.append(DeliveryAttempt(status, error, time.time()))
            if status is not None and 200 <= status < 300:
                delivery.delivered = True
                break
            if attempt < self.retries:
                await asyncio.sleep(self.backoff * 2**attempt)
        delivery.done = True
        async with self._changed:
            self._changed.notify_all()

    async def wait(self, n: int = 1, *, timeout: float = 5.0) -> list[Delivery]:  # noqa: ASYNC109
        """Wait until at least ``n`` deliveries have ended (delivered or given up)."""

        def finished() -> bool:
            return sum(d.done for d in self.items) >= n

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(finished)
        return [d for d in self.items if d.done]

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None


def _render(template: str, trigger: str, payload: dict[str, Any]) -> str:
    """A custom ``payloadTemplate``: ``{{name}}`` / ``{{a.b.0.c}}`` placeholders."""
    import re

    context = {"triggerEvent": trigger, **payload}

    def value(match: re.Match[str]) -> str:
        node: Any = context
        for part in match.group(1).strip().split("."):
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            elif isinstance(node, dict):
                node = node.get(part, "")
            else:
                return ""
        return node if isinstance(node, str) else orjson.dumps(node).decode()

    return re.sub(r"\{\{([^{}]+)\}\}", value, template)
