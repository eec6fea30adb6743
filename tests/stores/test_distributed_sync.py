"""examples/distributed_sync end to end (issue 8): 3 taskiq workers on a real redis-server, 30
managed users x 200 bookings in FakeCalCom under a tight rate limit, one worker killed in the
middle of a job: every booking is synced exactly once, no request gets a 429, and the killed
worker's job is redelivered to another worker and resumes from its checkpoint.

The example runs unchanged; the workers load it through :func:`instrumented_broker` (this module,
imported by the worker processes), which adds a taskiq middleware that records each start and
end of a sync job in Redis. ``SYNC_TEST_STORE=memory`` gives each job's clients a per-process
``MemoryStore`` instead of the shared ``RedisStore`` (tokens, checkpoints and output stay in
Redis): the contrasting run that shows the 429s the shared budget prevents.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError
from taskiq import AsyncBroker, TaskiqMessage, TaskiqMiddleware, TaskiqResult

from calcom_async import CalCom
from calcom_async.stores import MemoryStore
from calcom_async.testing import FakeCalCom, Faults, Limit
from calcom_async.testing._seed import person
from tests.support.files import ROOT
from tests.support.redis_server import RedisServer

EXAMPLE = ROOT / "examples" / "distributed_sync"
USERS, PER_USER = 30, 200
OUTPUT = "example:synced"  # tasks.OUTPUT
JOBS = "test:jobs"  # the JobLog records
WORKERS = 3
# Every credential that is not an API key has its own budget of 5 requests a second in the fake:
# the OAuth client's id + secret (enqueue's list, one force-refresh per user: 31 requests, shared
# by every job of every worker) and each managed user's access token. A request over it blocks the
# credential for 2 s.
RATE, WINDOW = 5, 1.0
LIMITS = [Limit("default", RATE, WINDOW, block=2.0)]
PAGE_SIZE = 25  # 200 bookings: 9 requests, two windows of the user's budget
# Longer than the longest job (waiting for the OAuth client's budget included; measured 2.6 to
# 5.4 s on 2 cores), or a live worker's job would be handed to another worker as well. Shorter
# than the refresh lock a killed worker may hold (lock_ttl, 15 s): a redelivered job waiting for
# it can be handed on again and run twice (the fence stops one run; _all_done waits for both).
IDLE_MS = 8000


# -- the worker side (imported by the worker processes) ---------------------------------------


class JobLog(TaskiqMiddleware):
    """Test-only: appends ``{"event": "start"|"end", "user", "worker", ...}`` to the Redis list
    ``JOBS`` for every run of ``sync_managed_user``. A start records whether the user's checkpoint
    was already there (``resumed``); an end records how many bookings the run wrote."""

    def __init__(self, worker: str, store: Callable[[], Any]) -> None:
        super().__init__()
        self.worker = worker
        self.store = store

    async def _record(self, **fields: Any) -> None:
        entry = {**fields, "worker": self.worker, "pid": os.getpid(), "t": time.time()}
        await self.store().redis.rpush(JOBS, json.dumps(entry))

    async def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        if message.task_name == "sync_managed_user":
            user = int(message.args[0])
            checkpoint = await self.store().get_checkpoint(f"bookings-{user}")
            await self._record(event="start", user=user, resumed=checkpoint is not None)
        return message

    async def post_execute(self, message: TaskiqMessage, result: TaskiqResult[Any]) -> None:
        if message.task_name == "sync_managed_user":
            await self._record(
                event="end",
                user=int(message.args[0]),
                written=None if result.is_err else result.return_value,
                error=repr(result.error) if result.is_err else None,
            )


def instrumented_broker() -> AsyncBroker:
    """``taskiq worker tests.stores.test_distributed_sync:instrumented_broker``: the example's
    broker with :class:`JobLog`; with ``SYNC_TEST_STORE=memory`` its clients share nothing with
    the other workers (and each paces itself alone, as one job's client does with the default
    store)."""
    import tasks  # examples/distributed_sync, on the worker's PYTHONPATH

    if os.environ.get("SYNC_TEST_STORE") == "memory":
        memory = MemoryStore()  # one per worker process: nothing shared with the others

        def platform(**kwargs: Any) -> CalCom:
            return CalCom(
                client_id=os.environ["CALCOM_CLIENT_ID"],
                client_secret=os.environ["CALCOM_CLIENT_SECRET"],
                base_url=os.environ.get("CALCOM_BASE_URL"),
                store=memory,
                **kwargs,
            )

        tasks._platform = platform
    broker: AsyncBroker = tasks.broker
    return broker.with_middlewares(JobLog(os.environ["SYNC_TEST_WORKER"], tasks.store))


# -- the test side --------------------------------------------------------------------------


@dataclass
class Spy:
    """What the fake saw: every token it issued, and how often a credential's window was spent
    to its last request (``remaining: 0`` on an answer that was not refused)."""

    tokens: list[str] = field(default_factory=list)
    spent: Counter[str] = field(default_factory=Counter)

    def attach(self, fake: FakeCalCom) -> None:
        issue, check = fake.store.issue_tokens, fake.rate_limiter.check

        def issue_tokens(user_id: int, client_id: str) -> dict[str, Any]:
            tokens = issue(user_id, client_id)
            self.tokens += [tokens["accessToken"], tokens["refreshToken"]]
            return tokens

        def rate_check(key: str, kind: str, now: float) -> tuple[dict[str, str], float | None]:
            headers, refused = check(key, kind, now)
            if refused is None and headers.get("X-RateLimit-Remaining-Default") == "0":
                self.spent[key.split(":")[0]] += 1  # "client" (the OAuth client) or "user"
            return headers, refused

        fake.store.issue_tokens = issue_tokens  # type: ignore[method-assign]
        fake.rate_limiter.check = rate_check  # type: ignore[method-assign]


@dataclass
class Run:
    synced: list[str]
    records: list[dict[str, Any]]
    logs: list[str]  # each worker's output, then enqueue.py's
    elapsed: float
    killed_at: int = 0  #: bookings synced when the worker was killed
    cut: dict[int, int] = field(default_factory=dict)  #: its jobs in progress: bookings written

    def starts(self, user: int) -> list[dict[str, Any]]:
        return [r for r in self.records if r["event"] == "start" and r["user"] == user]

    def ends(self, user: int) -> list[dict[str, Any]]:
        return [r for r in self.records if r["event"] == "end" and r["user"] == user]


def _seed(fake: FakeCalCom, users: int, per_user: int) -> set[str]:
    store = fake.store
    uids: set[str] = set()
    now = store.now()
    for n in range(users):
        user = store.add_managed_user(fake.client_id, f"User {n}", f"u{n}@example.com", "UTC")
        et = store.add_event_type(
            user, {"title": "Call", "slug": f"call-{n}", "lengthInMinutes": 30}
        )
        et_id = et["id"] if isinstance(et, dict) else et
        for i in range(per_user):
            booking = store.add_booking(
                et_id,
                now + 86400 + i * 3600,
                [person(store)],
                host_id=user,
                created=now - 86400 + i * 60,  # made one after another
            )
            uids.add(f"{user} {booking.uid}")
    return uids


async def _records(rds: Any) -> list[dict[str, Any]]:
    return [json.loads(x) for x in await rds.lrange(JOBS, 0, -1)]


def _all_done(records: list[dict[str, Any]], users: int, *, dead: frozenset[str]) -> bool:
    """Every user's job ended without error, and no run of a live worker is still going (the
    ``dead`` workers' runs never end). One end per user is not enough: a job can be handed to a
    second worker while a first still runs it (here: a redelivered job waiting for the refresh
    lock its killed worker held, up to ``RedisStore.lock_ttl``, longer than ``IDLE_MS``); the
    example's fenced write stops one of the two runs, which ends at once (``written`` short)
    while the other still writes the rest."""
    running: Counter[tuple[str, int]] = Counter()  # (worker, user): runs started, not ended
    done: set[int] = set()
    for r in records:
        run = (r["worker"], r["user"])
        if r["event"] == "start":
            running[run] += 1
        else:
            running[run] -= 1
            if not r["error"]:
                done.add(r["user"])
    busy = [run for run, n in running.items() if n and run[0] not in dead]
    return len(done) == users and not busy


class Progress:
    """Bookings written per user so far (reads only what was appended since the last call)."""

    def __init__(self, rds: Any) -> None:
        self.rds = rds
        self.seen = 0
        self.written: Counter[int] = Counter()

    async def update(self) -> Counter[int]:
        new = await self.rds.lrange(OUTPUT, self.seen, -1)
        self.seen += len(new)
        self.written.update(int(x.split(b" ")[0]) for x in new)
        return self.written

    async def in_progress(self, worker: str) -> dict[int, int]:
        """The users whose job ``worker`` started and did not end, with their bookings so far."""
        mine = [r for r in await _records(self.rds) if r["worker"] == worker]
        users = {r["user"] for r in mine if r["event"] == "start"}
        users -= {r["user"] for r in mine if r["event"] == "end"}
        written = await self.update()
        return {user: written[user] for user in users}


async def _until(
    check: Callable[[], Awaitable[bool]], seconds: float, what: str, logs: list[Path]
) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            tails = [log.read_text()[-3000:] for log in logs]
            raise AssertionError(f"{what} (after {seconds:g}s); worker logs: {tails}")
        await asyncio.sleep(0.02)


async def _run_example(
    fake: FakeCalCom,
    redis_url: str,
    tmp_path: Path,
    *,
    users: int,
    store: str,
    kill: bool,
) -> Run:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "CALCOM_BASE_URL": fake.base_url,
        "CALCOM_CLIENT_ID": fake.client_id,
        "CALCOM_CLIENT_SECRET": fake.client_secret,
        "SYNC_IDLE_MS": str(IDLE_MS),
        "SYNC_PAGE_SIZE": str(PAGE_SIZE),
        "SYNC_TEST_STORE": store,
        # the example, and the repository: the workers import this module (tests.stores...)
        "PYTHONPATH": os.pathsep.join([str(EXAMPLE), str(ROOT)]),
    }
    taskiq = str(Path(sys.executable).with_name("taskiq"))
    paths = [tmp_path / f"worker{n}.log" for n in range(WORKERS)]
    logs = [path.open("w") for path in paths]
    workers = [
        await asyncio.create_subprocess_exec(
            taskiq,
            "worker",
            "tests.stores.test_distributed_sync:instrumented_broker",
            "--workers",
            "1",
            "--log-level",
            "DEBUG",  # everything the client and taskiq log goes to the leak scan
            "--max-async-tasks",
            "4",
            cwd=EXAMPLE,
            env={**env, "SYNC_TEST_WORKER": str(n)},
            start_new_session=True,
            stdout=logs[n],
            stderr=subprocess.STDOUT,
        )
        for n in range(WORKERS)
    ]
    rds = aioredis.Redis.from_url(redis_url)
    progress = Progress(rds)
    run = Run([], [], [], 0.0)

    async def consumers_ready() -> bool:
        try:
            return len(await rds.xinfo_consumers("calcom-sync", "calcom-sync")) == WORKERS
        except ResponseError:  # no stream or group yet
            return False

    async def ready_to_kill() -> bool:
        if await rds.llen(OUTPUT) < users * PER_USER // 5:
            return False  # mid-run: a fifth synced
        jobs = await progress.in_progress("0")
        # mid-job: some bookings written, and at most the first window of the user's budget spent
        # (the next page waits a second for the reset: the job cannot end before the kill)
        return any(0 < n <= RATE * PAGE_SIZE for n in jobs.values())

    async def all_done() -> bool:
        return _all_done(await _records(rds), users, dead=frozenset({"0"} if kill else ()))

    try:
        await _until(consumers_ready, 30, "the workers did not join the consumer group", paths)
        t0 = time.monotonic()
        enqueue = await asyncio.create_subprocess_exec(
            sys.executable,
            str(EXAMPLE / "enqueue.py"),
            cwd=EXAMPLE,
            env={**env, "PYTHONPATH": str(EXAMPLE)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(enqueue.communicate(), 60)
        run.logs.append(out.decode())
        assert enqueue.returncode == 0 and f"enqueued {users} jobs" in out.decode(), out
        if kill:
            await _until(ready_to_kill, 60, "worker 0 never had a job half done", paths)
            os.killpg(workers[0].pid, signal.SIGKILL)
            await workers[0].wait()
            run.killed_at = await rds.llen(OUTPUT)
            run.cut = await progress.in_progress("0")
            print(f"\n{time.monotonic() - t0:.1f}s: worker 0 killed, its jobs at {run.cut}")
        await _until(all_done, 90, "not every job finished", paths)
        run.elapsed = time.monotonic() - t0
        print(f"{run.elapsed:.1f}s: every job done")
    finally:
        # every job is done (or the test failed): stop the workers at once. (A graceful stop would
        # wait for the next message: taskiq-redis 1.2 checks for shutdown only after reading one.)
        for worker in workers:
            if worker.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(worker.pid, signal.SIGKILL)
            await worker.wait()
        for log in logs:
            log.close()
        try:  # the workers are gone: what is in Redis now is final
            run.synced = [x.decode() for x in await rds.lrange(OUTPUT, 0, -1)]
            run.records = await _records(rds)
            keys = await rds.keys("*")
        finally:
            await rds.aclose()
    run.logs[:0] = [path.read_text() for path in paths]
    run.logs.append("\n".join(k.decode() for k in keys))  # key names are scanned too
    return run


def _assert_no_secrets(run: Run, secrets: list[str]) -> None:
    """Nothing the workers and enqueue.py printed or logged (at DEBUG), and no Redis key name,
    carries the client secret or a token the fake issued (every one of them contains SECRET)."""
    assert len(secrets) > 2  # the client secret and the tokens the fake issued
    assert all("SECRET" in secret for secret in secrets)
    for log in run.logs[:WORKERS]:  # the scan covers the client's request log
        assert "[calcom_async][DEBUG  ]" in log and "GET /v2/bookings -> 200" in log
    for n, log in enumerate(run.logs):
        assert "SECRET" not in log, f"a secret in output {n}: {log[log.index('SECRET') - 200 :]}"
        for secret in secrets:
            assert secret not in log  # (redundant with the marker unless the marker changes)


async def test_three_workers_one_killed_every_booking_once(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    async with FakeCalCom(platform_rate_limit=LIMITS, faults=Faults(latency=0.005)) as fake:
        expected = _seed(fake, USERS, PER_USER)
        spy = Spy()
        spy.attach(fake)
        run = await _run_example(
            fake, redis_server.url, tmp_path, users=USERS, store="redis", kill=True
        )
        users = sorted({int(x.split()[0]) for x in expected})
        redelivered = {u for u in users if len(run.starts(u)) > 1}
        durations = [
            end["t"] - max(s["t"] for s in run.starts(u) if s["pid"] == end["pid"])
            for u in users
            for end in run.ends(u)
        ]
        print(
            f"taskiq: {len(run.synced)} bookings synced by {WORKERS} workers (one killed at "
            f"{run.killed_at}, its jobs in progress: {run.cut}), {len(set(run.synced))} distinct, "
            f"429s: {fake.stats['throttled']} in {fake.stats['requests']} requests, windows "
            f"spent to the last request: {dict(spy.spent)}, jobs redelivered: {len(redelivered)} "
            f"(of them not the killed worker's: {len(redelivered - set(run.cut))}), longest job: "
            f"{max(durations):.1f}s, run: {run.elapsed:.1f}s"
        )

        # every booking exactly once
        assert len(run.synced) == len(set(run.synced))
        assert set(run.synced) == expected
        # no 429, although the workers ran at the limits: the OAuth client's budget (shared by
        # every job of every worker) was spent to its last request in several windows, and each
        # user's first window too
        assert fake.stats["throttled"] == 0
        assert spy.spent["client"] >= 3
        assert spy.spent["user"] >= USERS

        # the kill hit a job in the middle; every job the killed worker had started and not
        # finished was redelivered to another worker and resumed from its checkpoint
        assert 0 < run.killed_at < len(expected)
        assert any(0 < n < PER_USER for n in run.cut.values()), run.cut
        assert set(run.cut) <= redelivered
        for user in users:
            starts, ends = run.starts(user), run.ends(user)
            assert ends and all(e["error"] is None for e in ends)
            # what the runs that finished wrote, on top of what the killed run wrote
            assert sum(e["written"] for e in ends) == PER_USER - run.cut.get(user, 0)
            if user in run.cut:
                first, again = starts[0], starts[1]
                assert first["worker"] == "0" and not first["resumed"]
                assert again["worker"] != "0"
                assert again["resumed"] == (run.cut[user] > 0)  # its checkpoint was there
            else:
                assert not starts[0]["resumed"]

        _assert_no_secrets(run, [fake.client_secret, *spy.tokens])


def test_all_done_waits_for_the_run_a_superseded_run_left_writing() -> None:
    """The JobLog records of a failed run (user 14, worker 0 killed while it held the user's
    refresh lock): worker 2 got the job 8 s later and waited for the lock; 8 s after that,
    worker 1 got it too, resumed from the checkpoint worker 2 had written meanwhile and ended
    at its first write, superseded (written 0), while worker 2 still wrote. The test stopped
    there and killed worker 2 with 30 bookings of user 14 unwritten."""

    def record(event: str, worker: str, user: int, **fields: Any) -> dict[str, Any]:
        return {"event": event, "worker": worker, "user": user, "error": None, **fields}

    killed = frozenset({"0"})
    others = [record(e, "1", 13) for e in ("start", "end")]  # user 13: one run, done
    records = [
        record("start", "0", 14),  # killed
        *others,
        record("start", "2", 14),  # the job handed over: waits for the lock, then writes
        record("start", "1", 14, resumed=True),  # handed over again: superseded at once
        record("end", "1", 14, written=0),
    ]
    assert not _all_done(records, 2, dead=killed)  # worker 2 still writes user 14's bookings
    assert _all_done([*records, record("end", "2", 14, written=170)], 2, dead=killed)

    # the killed worker's run that never ended holds nothing up; a run it ended counts
    handed = [record("start", "0", 14), record("start", "2", 14), record("end", "2", 14)]
    assert _all_done([*handed, *others], 2, dead=killed)
    assert not _all_done([*handed, *others], 2, dead=frozenset())  # were worker 0 alive
    assert _all_done([record("start", "0", 14), record("end", "0", 14), *others], 2, dead=killed)
    assert not _all_done([record("start", "0", 14), *others], 2, dead=killed)  # never ended
    # an end with an error is not done (taskiq retries the job)
    failed = [record("start", "1", 14), {**record("end", "1", 14), "error": "Boom()"}, *others]
    assert not _all_done(failed, 2, dead=frozenset())


async def test_memory_store_per_worker_collects_429s(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """The same example without the shared budget (smaller: 12 users x 50 bookings, no kill):
    each job's clients pace themselves to the whole limit, and the fake answers 429s (the
    clients retry them: every booking is still synced once)."""
    async with FakeCalCom(platform_rate_limit=LIMITS, faults=Faults(latency=0.005)) as fake:
        expected = _seed(fake, 12, 50)
        spy = Spy()
        spy.attach(fake)
        run = await _run_example(
            fake, redis_server.url, tmp_path, users=12, store="memory", kill=False
        )
        print(
            f"MemoryStore per worker: 429s: {fake.stats['throttled']} in "
            f"{fake.stats['requests']} requests, {len(run.synced)} bookings synced, "
            f"run: {run.elapsed:.1f}s"
        )
        assert fake.stats["throttled"] > 0
        assert sorted(run.synced) == sorted(expected)
        _assert_no_secrets(run, [fake.client_secret, *spy.tokens])


def _import_tasks(monkeypatch: pytest.MonkeyPatch, redis_url: str, fake: FakeCalCom) -> Any:
    """The example's ``tasks`` module, imported afresh in this process, configured for ``fake``
    (the caller closes ``tasks.store()`` and drops the module)."""
    import importlib

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("CALCOM_BASE_URL", fake.base_url)
    monkeypatch.setenv("CALCOM_CLIENT_ID", fake.client_id)
    monkeypatch.setenv("CALCOM_CLIENT_SECRET", fake.client_secret)
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.delitem(sys.modules, "tasks", raising=False)
    return importlib.import_module("tasks")


async def test_two_jobs_of_a_new_user_force_refresh_once(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example's first-pair bootstrap runs under the user's refresh lock: two concurrent
    jobs of a user it has never seen force-refresh once (a second would revoke the first's
    pair), and both get the stored pair."""
    async with FakeCalCom() as fake:
        user = fake.store.add_managed_user(fake.client_id, "Ann", "ann@example.com", "UTC")
        fake.store.issue_tokens(user, fake.client_id)
        tasks = _import_tasks(monkeypatch, redis_server.url, fake)
        try:
            pairs = await asyncio.gather(
                *(tasks._tokens(user, f"managed-user-{user}") for _ in "ab")
            )
        finally:
            await tasks.store().aclose()
            sys.modules.pop("tasks", None)
        forced = [r for r in fake.requests if r.path.endswith("/force-refresh")]
        assert len(forced) == 1
        assert pairs[0] == pairs[1]
        assert pairs[0].refresh_token in fake.store.refresh_tokens  # not revoked


async def test_a_job_run_twice_at_once_writes_each_booking_once(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example's fenced write, with a job handed to a second worker while the first still
    runs it: the second run resumes from the checkpoint the first has written so far, and from
    then on one of the two stops at its next write (it returns short, without an error) while
    the other writes the rest. Between them, every booking once."""
    async with FakeCalCom(faults=Faults(latency=0.02)) as fake:
        expected = _seed(fake, 1, PER_USER)
        user = int(next(iter(expected)).split()[0])
        fake.store.issue_tokens(user, fake.client_id)
        tasks = _import_tasks(monkeypatch, redis_server.url, fake)
        rds = aioredis.Redis.from_url(redis_server.url)
        try:
            first = asyncio.create_task(tasks.sync_managed_user(user, page_size=PAGE_SIZE))

            async def first_page_written() -> bool:
                return bool(await rds.llen(OUTPUT) >= PAGE_SIZE)

            await _until(first_page_written, 30, "the first run wrote no page", [])
            assert not first.done()  # the first run is on its next pages
            written = [
                *await asyncio.gather(first, tasks.sync_managed_user(user, page_size=PAGE_SIZE))
            ]
            synced = [x.decode() for x in await rds.lrange(OUTPUT, 0, -1)]
        finally:
            await rds.aclose()
            await tasks.store().aclose()
            sys.modules.pop("tasks", None)
        assert sorted(synced) == sorted(expected)  # each booking once
        assert sum(written) == PER_USER  # what each run says it wrote is what it wrote
        assert written[0] >= PAGE_SIZE  # (the page it wrote before the second run began)
