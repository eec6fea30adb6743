"""``examples/booking_bot.py`` runs against FakeCalCom and posts what it should."""

from __future__ import annotations

from types import ModuleType

import pytest

from calcom_async.webhooks import parse_event
from tests.support.files import ROOT, load_module
from tests.support.webhook_samples import body_for

EXAMPLE = ROOT / "examples" / "booking_bot.py"


@pytest.fixture(scope="module")
def bot() -> ModuleType:
    return load_module("booking_bot_example", EXAMPLE)


async def test_demo_posts_one_message_per_booking_event(bot: ModuleType) -> None:
    messages = await bot.demo(echo=False)
    assert [channel for channel, _ in messages] == ["#bookings"] * 3
    texts = [text for _, text in messages]
    assert texts[0].startswith("📅 New: Intro call") and "Ada Lovelace" in texts[0]
    assert texts[1].startswith("🔁 Moved: Intro call")
    assert texts[2].startswith("❌ Off: Intro call") and "(Double-booked)" in texts[2]


async def test_handlers_directly(bot: ModuleType) -> None:
    chat = bot.ChatStub(echo=False)
    router = bot.build_router("whsec_unit", chat)
    await router.dispatch(parse_event(body_for("BOOKING_REJECTED")))
    await router.dispatch(parse_event(body_for("OOO_CREATED")))
    assert chat.messages == [
        (
            "#bookings",
            "❌ Off: 30 Min Meeting between Olga Organizer and Ann Attendee "
            "(Fully booked that week)",
        ),
        ("#cal-log", "(ignored OOO_CREATED delivery)"),
    ]


def test_serve_needs_a_secret(bot: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAL_WEBHOOK_SECRET", raising=False)
    with pytest.raises(SystemExit, match="CAL_WEBHOOK_SECRET"):
        bot.main(["--serve"])


def _readme_webhook_example() -> str:
    readme = (EXAMPLE.parent.parent / "README.md").read_text()
    section = readme.split("\n## Webhooks\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


async def test_readme_example_works(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from calcom_async.webhooks import SIGNATURE_HEADER, sign

    apps: list[web.Application] = []
    monkeypatch.setattr(web, "run_app", lambda app, **kwargs: apps.append(app))
    monkeypatch.setenv("CAL_WEBHOOK_SECRET", "whsec_new,whsec_old")
    exec(compile(_readme_webhook_example(), "README.md", "exec"), {"__name__": "readme"})
    (app,) = apps
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        for trigger, key in (("BOOKING_CREATED", "whsec_old"), ("OOO_CREATED", "whsec_new")):
            body = body_for(trigger)
            response = await client.post(
                "/webhooks/cal", data=body, headers={SIGNATURE_HEADER: sign(body, key)}
            )
            assert response.status == 200
        bad = await client.post("/webhooks/cal", data=b"{}", headers={SIGNATURE_HEADER: "0" * 64})
        assert bad.status == 401
    out = capsys.readouterr().out  # the app's cleanup waited for the handlers
    assert "BOOKING_CREATED aXzGKUXZ5Jcp9RrL7dpyNV 2026-03-10 14:00:00+00:00 ann@example.org" in out
    assert "unhandled OOO_CREATED {'oooEntry'" in out
