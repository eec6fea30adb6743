"""The benchmark's HTTP server: a separate process on 127.0.0.1 that answers from bytes rendered
at start-up, so it costs little CPU per request (the parent reports that CPU).

    GET [/t<N>]/v2/bookings?take=100&skip=S   a page of a list of N bookings (default 20,000)
    GET [/t<N>]/v2/bookings/<uid>             one booking

Run: ``python -m bench.server`` prints ``READY <port>`` once it listens.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from urllib.parse import parse_qsl

import orjson

from bench import data

_HEAD = (
    "HTTP/1.1 {status}\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    "Content-Length: {length}\r\n"
    "X-RateLimit-Limit-Default: 10000000\r\n"
    "X-RateLimit-Remaining-Default: 9999999\r\n"
    "X-RateLimit-Reset-Default: 60\r\n"
    "\r\n"
)


def response(body: bytes, status: str = "200 OK") -> bytes:
    return _HEAD.format(status=status, length=len(body)).encode() + body


class Store:
    def __init__(self) -> None:
        bookings = [data.booking(i) for i in range(data.DISTINCT)]
        size = data.PAGE_SIZE
        #: the JSON array of each distinct page
        self.chunks = [orjson.dumps(bookings[i : i + size]) for i in range(0, len(bookings), size)]
        #: whole answers of the default list (total = DISTINCT), rendered once
        self.pages = {
            skip: response(data.page_body(bookings[skip : skip + size], skip, data.DISTINCT))
            for skip in range(0, data.DISTINCT, size)
        }
        self.singles = {b["uid"]: response(data.single_body(b)) for b in bookings}
        self.not_found = response(
            b'{"status":"error","error":{"code":"NotFoundException","message":"not found"}}',
            "404 Not Found",
        )

    def page(self, total: int, take: int, skip: int) -> bytes:
        if total == data.DISTINCT and take == data.PAGE_SIZE and skip in self.pages:
            return self.pages[skip]
        count = max(0, min(take, total - skip))
        if take == data.PAGE_SIZE and count == take and skip % take == 0:
            chunk = self.chunks[(skip // take) % len(self.chunks)]
        else:  # an odd page: rendered now
            ids = range(skip, skip + count)
            chunk = orjson.dumps([data.booking(i % data.DISTINCT) for i in ids])
        meta = orjson.dumps(data.page_meta(skip, count, total, take))
        body = b'{"status":"success","data":' + chunk + b',"pagination":' + meta + b',"error":{}}'
        return response(body)

    def answer(self, target: str) -> bytes:
        path, _, query = target.partition("?")
        total = data.DISTINCT
        if path.startswith("/t"):
            prefix, _, rest = path[2:].partition("/")
            total, path = int(prefix), "/" + rest
        if path == "/v2/bookings":
            q = dict(parse_qsl(query))
            return self.page(total, int(q.get("take", data.PAGE_SIZE)), int(q.get("skip", 0)))
        if path.startswith("/v2/bookings/"):
            return self.singles.get(path[len("/v2/bookings/") :], self.not_found)
        return self.not_found


class HTTP(asyncio.Protocol):
    def __init__(self, store: Store) -> None:
        self.store = store
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, chunk: bytes) -> None:
        self.buffer += chunk
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = line.split(" ")
            answer = self.store.answer(parts[1]) if len(parts) == 3 else self.store.not_found
            assert self.transport is not None
            self.transport.write(answer)


async def serve(port: int) -> None:
    store = Store()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: HTTP(store), "127.0.0.1", port, backlog=1024)
    bound = server.sockets[0].getsockname()[1]
    print(f"READY {bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(port))


if __name__ == "__main__":
    main()
