"""Token pairs as bytes (issue 16): the form every store keeps, written and read by the token
classes themselves, so that no store imports a token class."""

from __future__ import annotations

import importlib.resources

import orjson
import pytest

from calcom_async import StoreDataError, TokenPair
from calcom_async.oauth import OAuthToken, Scope
from calcom_async.stores import MemoryStore


def test_a_pair_round_trips_in_the_format_stores_already_hold() -> None:
    pair = TokenPair("SECRET_A", "SECRET_R", 1700000000.5)
    blob = pair.to_json()
    # the same bytes earlier versions wrote into Redis: pairs stored before still read
    assert orjson.loads(blob) == {"a": "SECRET_A", "r": "SECRET_R", "e": 1700000000.5}
    assert TokenPair.from_json(blob) == pair
    assert TokenPair.from_json(blob.decode()) == pair  # a Redis client decoding responses
    assert TokenPair.from_json(b'{"a": "x"}') == TokenPair("x")


def test_an_oauth_token_keeps_its_scopes_and_type() -> None:
    token = OAuthToken("A", "R", 5.0, scopes=(Scope.BOOKING_READ,), token_type="Bearer")
    fields = orjson.loads(token.to_json())
    assert fields == {
        "a": "A",
        "r": "R",
        "e": 5.0,
        "k": "oauth",
        "s": ["BOOKING_READ"],
        "t": "Bearer",
    }
    back = OAuthToken.from_json(token.to_json())
    assert isinstance(back, OAuthToken) and back == token
    assert type(TokenPair.from_json(token.to_json())) is TokenPair  # read as the kind asked for


@pytest.mark.parametrize(
    ("blob", "problem"),
    [
        (b"not json SECRET_X", "JSONDecodeError"),
        (b'["SECRET_X"]', "ValueError"),
        (b'{"r": "SECRET_X"}', "ValueError"),
        (b'{"a": "SECRET_X", "e": "soon"}', "TypeError"),
        (b'{"a": "SECRET_X", "r": 7}', "TypeError"),
        (b'{"a": "SECRET_X", "e": true}', "TypeError"),
    ],
)
def test_anything_else_is_a_typed_error_without_the_value(blob: bytes, problem: str) -> None:
    with pytest.raises(StoreDataError, match=f"does not parse: {problem}") as error:
        TokenPair.from_json(blob)
    assert "SECRET_X" not in str(error.value)
    assert error.value.__cause__ is None and error.value.__suppress_context__


async def test_the_memory_store_keeps_bytes_fenced_by_version() -> None:
    store = MemoryStore()
    first, second = TokenPair("a1", "r1").to_json(), TokenPair("a2", "r2").to_json()
    assert await store.load_tokens("u") == (None, 0)
    assert await store.seed_tokens("u", first) == (first, 1)
    assert await store.seed_tokens("u", second) == (first, 1)  # a seed never overwrites
    async with store.refresh_lock("u") as lock:
        assert (lock.pair, lock.version) == (first, 1)
        assert await store.save_tokens("u", second, lock.version)
    assert not await store.save_tokens("u", first, 1)  # fenced: version 2 is stored now
    assert await store.load_tokens("u") == (second, 2)


def test_the_lua_scripts_ship_as_package_data() -> None:
    scripts = importlib.resources.files("calcom_async.stores").joinpath("lua")
    names = sorted(p.name for p in scripts.iterdir() if p.name.endswith(".lua"))
    assert names == [
        f"{n}.lua" for n in sorted(("extend", "learn", "lock", "save", "seed", "take", "unlock"))
    ]
    assert all("redis.call" in scripts.joinpath(n).read_text() for n in names)
