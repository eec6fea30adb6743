"""Auth modes, header choice from the operation table, managed-user token refresh."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from calcom_async import AuthenticationError, CalCom, CalComUsageError, ResponseValidationError
from calcom_async._auth import Auth, TokenPair, parse_expiry
from calcom_async._generated.operations import ME_GET, OAUTH2_GET_CLIENT, OAUTH2_TOKEN, OPERATIONS
from calcom_async._operation import AuthMode
from tests.session._synthetic import make_op
from tests.support.clock import FakeClock
from tests.support.fake_api import THING, Call, FakeAPI, error_body, json_reply
from tests.support.leaks import (
    ACCESS_TOKEN,
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    NEW_ACCESS_TOKEN,
    NEW_REFRESH_TOKEN,
    REFRESH_TOKEN,
)

BEARER_OP = make_op()  # API_KEY or ACCESS_TOKEN
PLATFORM_OP = make_op(auth=frozenset({AuthMode.PLATFORM}))
ANY_OP = make_op(auth=frozenset(AuthMode))
UNDECLARED_OP = make_op(auth=frozenset(), auth_required=False)
PLATFORM_KEYS = ("x-cal-client-id", "x-cal-secret-key")


def auth_headers(call: Call) -> dict[str, str]:
    keys = ("Authorization", *PLATFORM_KEYS)
    return {k: v for k, v in call.headers.items() if k in keys}


async def test_api_key(make_client: Any, api: FakeAPI) -> None:
    cal = make_client(api_key=API_KEY)
    await cal.session.request(BEARER_OP, path={"thingId": "a"})
    assert auth_headers(api.calls[0]) == {"Authorization": f"Bearer {API_KEY}"}


async def test_platform_pair(make_client: Any, api: FakeAPI) -> None:
    cal = make_client(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    await cal.session.request(PLATFORM_OP, path={"thingId": "a"})
    assert auth_headers(api.calls[0]) == {
        "x-cal-client-id": CLIENT_ID,
        "x-cal-secret-key": CLIENT_SECRET,
    }


async def test_headers_follow_the_operation_table(make_client: Any, api: FakeAPI) -> None:
    cal = make_client(
        api_key=API_KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        access_token=ACCESS_TOKEN,
    )
    for op in (BEARER_OP, PLATFORM_OP, ANY_OP, make_op(auth=frozenset({AuthMode.API_KEY}))):
        await cal.session.request(op, path={"thingId": "a"})
    bearer, platform, both, key_only = (auth_headers(c) for c in api.calls)
    assert bearer == {"Authorization": f"Bearer {ACCESS_TOKEN}"}  # the managed user acts
    assert platform == {"x-cal-client-id": CLIENT_ID, "x-cal-secret-key": CLIENT_SECRET}
    assert both == {**bearer, **platform}
    assert key_only == {"Authorization": f"Bearer {API_KEY}"}


async def test_undeclared_auth_sends_what_the_client_has(make_client: Any, api: FakeAPI) -> None:
    await make_client(api_key=API_KEY).session.request(UNDECLARED_OP, path={"thingId": "a"})
    assert auth_headers(api.calls[0]) == {"Authorization": f"Bearer {API_KEY}"}
    anonymous = CalCom(clock=FakeClock())
    assert anonymous.session.auth.modes == frozenset()
    await anonymous.session.request(UNDECLARED_OP, path={"thingId": "a"})
    assert auth_headers(api.calls[1]) == {}


async def test_an_anonymous_row_sends_no_credentials(make_client: Any, api: FakeAPI) -> None:
    """A row the overlay marks ``security: []`` (``anonymous=True``: the OAuth token endpoint,
    whose credentials are in its body) gets none of the client's headers, whatever it holds;
    the document itself marks no operation so."""
    cal = make_client(api_key=API_KEY, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    await cal.session.request(make_op(anonymous=True), path={"thingId": "a"})
    await cal.session.request(make_op(), path={"thingId": "a"})
    assert auth_headers(api.calls[0]) == {}
    assert auth_headers(api.calls[1]) == {"Authorization": f"Bearer {API_KEY}"}
    assert OAUTH2_TOKEN.anonymous and not OAUTH2_GET_CLIENT.anonymous
    assert [op.name for op in OPERATIONS if op.anonymous] == []


async def test_missing_credentials_fail_before_sending(
    make_client: Any, api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CALCOM_API_KEY", raising=False)
    cal = CalCom(clock=FakeClock())
    with pytest.raises(CalComUsageError, match="api_key"):
        await cal.session.request(BEARER_OP, path={"thingId": "a"})
    keyed = make_client(api_key=API_KEY)
    with pytest.raises(CalComUsageError, match="platform"):
        await keyed.session.request(PLATFORM_OP, path={"thingId": "a"})
    assert api.calls == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"client_id": CLIENT_ID},
        {"client_secret": CLIENT_SECRET},
        {"access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN},
        {"refresh_token": REFRESH_TOKEN},
        {"api_key": 123},
        {"api_key": ""},
        {"api_key": API_KEY + "\n"},
        {"api_key": "cal_test_\x00SECRET"},
        {"access_token": ACCESS_TOKEN, "access_token_expires_at": "soon"},
    ],
)
def test_inconsistent_credentials_are_usage_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(CalComUsageError):
        CalCom(**kwargs)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_800_000_000_000, 1_800_000_000.0),
        (1_800_000_000, 1_800_000_000.0),
        ("1800000000000", 1_800_000_000.0),
        ("2027-01-15T08:00:00.000Z", 1_800_000_000.0),
        ("2027-01-15T10:00:00+02:00", 1_800_000_000.0),
        (dt.datetime(2027, 1, 15, 8, 0), 1_800_000_000.0),
        (None, None),
    ],
)
def test_expiry_in_ms_seconds_or_iso(value: Any, expected: float | None) -> None:
    assert parse_expiry(value) == expected


def test_token_pair_and_client_reprs_hide_secrets() -> None:
    pair = TokenPair(ACCESS_TOKEN, REFRESH_TOKEN, 1.0)
    assert ACCESS_TOKEN not in repr(pair) and REFRESH_TOKEN not in str(pair)
    cal = CalCom(
        api_key=API_KEY,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        access_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
    )
    for text in (repr(cal), str(cal), repr(cal.session), repr(cal.session.auth)):
        assert "SECRET" not in text


# -- refresh ----------------------------------------------------------------------------------


def token_answer(expires: Any = 1_800_003_600_000) -> Any:
    data = {
        "accessToken": NEW_ACCESS_TOKEN,
        "refreshToken": NEW_REFRESH_TOKEN,
        "accessTokenExpiresAt": expires,
        "refreshTokenExpiresAt": 1_900_000_000_000,
    }
    return json_reply({"status": "success", "data": data})


class TokenServer:
    """Accepts only the new access token; counts refresh calls; yields a little on refresh."""

    def __init__(self) -> None:
        self.refreshes: list[Call] = []

    async def __call__(self, call: Call) -> Any:
        if call.path.endswith("/refresh"):
            self.refreshes.append(call)
            for _ in range(5):
                await asyncio.sleep(0)  # let other requests pile up behind the refresh
            return token_answer()
        if call.headers.get("Authorization") == f"Bearer {NEW_ACCESS_TOKEN}":
            return json_reply({"status": "success", "data": THING})
        return json_reply(error_body(401, "UnauthorizedException", "expired"), status=401)


def managed(make_client: Any, clock: FakeClock, expires_in: float | None, **kw: Any) -> CalCom:
    expires = None if expires_in is None else clock.time() + expires_in
    return make_client(  # type: ignore[no-any-return]
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        access_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
        access_token_expires_at=expires,
        **kw,
    )


async def test_refresh_before_expiry_goes_through_the_pipeline(
    make_client: Any, api: FakeAPI, clock: FakeClock
) -> None:
    server = TokenServer()
    api.default = server
    pairs: list[TokenPair] = []
    cal = managed(make_client, clock, expires_in=30, on_token_refresh=pairs.append)
    assert await cal.session.request(BEARER_OP, path={"thingId": "a"}) is not None
    refresh, get = api.calls
    assert (refresh.method, refresh.path) == ("POST", f"/v2/oauth/{CLIENT_ID}/refresh")
    assert refresh.headers["x-cal-secret-key"] == CLIENT_SECRET
    assert "Authorization" not in refresh.headers
    assert refresh.json() == {"refreshToken": REFRESH_TOKEN}
    assert get.headers["Authorization"] == f"Bearer {NEW_ACCESS_TOKEN}"
    assert pairs == [TokenPair(NEW_ACCESS_TOKEN, NEW_REFRESH_TOKEN, 1_800_003_600.0)]
    assert cal.tokens == pairs[0]


async def test_a_valid_token_is_not_refreshed(
    make_client: Any, api: FakeAPI, clock: FakeClock
) -> None:
    cal = managed(make_client, clock, expires_in=3600)
    await cal.session.request(BEARER_OP, path={"thingId": "a"})
    assert [c.path for c in api.calls] == ["/v2/things/a"]
    assert api.calls[0].headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"


async def test_refresh_once_after_401_with_async_callback_and_iso_expiry(
    make_client: Any, api: FakeAPI, clock: FakeClock
) -> None:
    seen: list[TokenPair] = []

    async def persist(pair: TokenPair) -> None:
        await anyio.lowlevel.checkpoint()
        seen.append(pair)

    server = TokenServer()
    api.queue(
        json_reply(error_body(401, "UnauthorizedException", "expired"), status=401),
        token_answer(expires="2027-01-15T09:00:00.000Z"),
    )
    api.default = server
    cal = managed(make_client, clock, expires_in=None, on_token_refresh=persist)
    response = await cal.session.request(BEARER_OP, path={"thingId": "a"}, raw=True)
    assert response.retries == 0
    assert [c.path for c in api.calls] == [
        "/v2/things/a",
        f"/v2/oauth/{CLIENT_ID}/refresh",
        "/v2/things/a",
    ]
    ids = {c.headers["X-Request-Id"] for c in api.calls if c.path == "/v2/things/a"}
    assert len(ids) == 1
    assert seen == [
        TokenPair(NEW_ACCESS_TOKEN, NEW_REFRESH_TOKEN, parse_expiry("2027-01-15T09:00:00Z"))
    ]


async def test_a_second_401_is_an_authentication_error(
    make_client: Any, api: FakeAPI, clock: FakeClock
) -> None:
    api.queue(
        json_reply(error_body(401, "UnauthorizedException", "expired"), status=401),
        token_answer(),
    )
    api.default = json_reply(error_body(401, "UnauthorizedException", "nope"), status=401)
    cal = managed(make_client, clock, expires_in=None)
    with pytest.raises(AuthenticationError, match="nope"):
        await cal.session.request(BEARER_OP, path={"thingId": "a"})
    assert len(api.calls) == 3  # first try, one refresh, one more try


async def test_failed_refresh_raises_typed_errors_without_secrets(
    make_client: Any, api: FakeAPI, clock: FakeClock
) -> None:
    api.queue(json_reply(error_body(401, "UnauthorizedException", "bad refresh token"), 401))
    cal = managed(make_client, clock, expires_in=0)
    with pytest.raises(AuthenticationError, match="bad refresh token"):
        await cal.session.request(BEARER_OP, path={"thingId": "a"})
    other = managed(make_client, clock, expires_in=0)
    api.queue(json_reply({"status": "success", "data": {"accessToken": NEW_ACCESS_TOKEN}}))
    with pytest.raises(ResponseValidationError, match="accessToken") as info:
        await other.session.request(BEARER_OP, path={"thingId": "a"})
    assert info.value.raw is None and "SECRET" not in str(info.value)


async def test_a_rejected_refresh_token_is_sent_once_however_many_wait(
    make_client: Any, api: FakeAPI, clock: FakeClock
) -> None:
    api.default = json_reply(error_body(401, "UnauthorizedException", "bad refresh token"), 401)
    cal = managed(make_client, clock, expires_in=-10)
    failures: list[BaseException] = []

    async def one() -> None:
        try:
            await cal.session.request(BEARER_OP, path={"thingId": "a"})
        except AuthenticationError as exc:
            failures.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(one)
    assert len(failures) == 20
    assert len([c for c in api.calls if c.path.endswith("/refresh")]) == 1


@pytest.mark.parametrize("expires_in", [-10.0, None])
async def test_fifty_concurrent_requests_share_one_refresh(
    make_client: Any, api: FakeAPI, clock: FakeClock, expires_in: float | None
) -> None:
    server = TokenServer()
    api.default = server
    pairs: list[TokenPair] = []
    cal = managed(make_client, clock, expires_in=expires_in, on_token_refresh=pairs.append)
    results: list[Any] = []

    async def one() -> None:
        results.append(await cal.session.request(BEARER_OP, path={"thingId": "a"}))

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(one)
    assert len(server.refreshes) == 1
    assert len(results) == 50 and all(r is not None for r in results)
    assert len(pairs) == 1 and pairs[0].access_token == NEW_ACCESS_TOKEN


async def test_with_options_copy_shares_refreshed_tokens(
    make_client: Any, api: FakeAPI, clock: FakeClock
) -> None:
    api.default = TokenServer()
    cal = managed(make_client, clock, expires_in=0)
    copy = cal.with_options(timeout=5)
    await copy.session.request(BEARER_OP, path={"thingId": "a"})
    assert cal.tokens is not None and cal.tokens.access_token == NEW_ACCESS_TOKEN


async def test_fixed_headers_are_the_token_free_headers_worked_out_for_a_row() -> None:
    """The pipeline takes ``Auth.fixed_headers`` without an await: None until the row's first
    call worked them out, then that call's headers; never for a row that sends an access
    token (the token may be refreshed between calls)."""
    key = Auth(clock=FakeClock(), api_key=API_KEY)
    assert key.fixed_headers(ME_GET) is None
    sent = await key.headers(ME_GET)
    assert sent.headers == {"Authorization": f"Bearer {API_KEY}"} and sent.token is None
    assert key.fixed_headers(ME_GET) is sent
    token = Auth(clock=FakeClock(), tokens=TokenPair("access-1"))
    sent = await token.headers(ME_GET)
    assert sent.token == "access-1" and token.fixed_headers(ME_GET) is None
