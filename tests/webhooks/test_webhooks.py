"""Webhook signatures and typed events: ``verify_signature``, ``sign``, ``parse_event``."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from calcom_async import CalComError, CalComUsageError
from calcom_async._serde import unstructure
from calcom_async._types import UNSET
from calcom_async.webhooks import (
    PAYLOAD_TYPES,
    SIGNATURE_HEADER,
    BookingPayload,
    CalVideoNoShowPayload,
    FormSubmittedPayload,
    MeetingPayload,
    NoShowUpdatedPayload,
    OutOfOfficePayload,
    RecordingReadyPayload,
    TranscriptionPayload,
    WebhookBookingStatus,
    WebhookEvent,
    WebhookPayloadError,
    WebhookSignatureError,
    WebhookTriggerEvent,
    construct_event,
    parse_event,
    sign,
    verify_signature,
)
from tests.support.spec import raw_document
from tests.support.webhook_samples import BOOKING, CREATED_AT, body_for, payload_for

KEY = "whsec_SECRET_current_4f9a"
OLD_KEY = "whsec_SECRET_previous_77c1"
OTHER_KEY = "whsec_SECRET_someone_else"
RETIRED_KEY = "whsec_SECRET_retired"
BODY = body_for("BOOKING_CREATED")


def hex_hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --- sign / verify_signature ----------------------------------------------------------------------


def test_sign_is_lower_case_hex_hmac_sha256_of_the_raw_body() -> None:
    # RFC 4231, test case 2
    assert sign(b"what do ya want for nothing?", "Jefe") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    assert sign(BODY, KEY) == hex_hmac(KEY, BODY)


def test_valid_signature_passes() -> None:
    verify_signature(BODY, sign(BODY, KEY), KEY)
    event = construct_event(BODY, sign(BODY, KEY), KEY)
    assert event.trigger_event is WebhookTriggerEvent.BOOKING_CREATED


@pytest.mark.parametrize("prefix", ["sha256=", "SHA256=", " sha256= "])
def test_sha256_prefix_and_surrounding_space_accepted(prefix: str) -> None:
    verify_signature(BODY, prefix + sign(BODY, KEY) + " ", KEY)


def test_upper_case_hex_accepted() -> None:
    verify_signature(BODY, sign(BODY, KEY).upper(), KEY)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_header(header: str | None) -> None:
    with pytest.raises(WebhookSignatureError, match=SIGNATURE_HEADER) as info:
        verify_signature(BODY, header, KEY)
    assert info.value.reason == "missing"
    assert isinstance(info.value, CalComError)


@pytest.mark.parametrize(
    "header",
    [
        "not-a-signature",
        "sha256=",
        "abc123",
        "g" * 64,
        "0" * 63,
        "0" * 65,
        "sha1=" + "0" * 40,
        "no-secret-provided",
    ],
)
def test_malformed_header(header: str) -> None:
    with pytest.raises(WebhookSignatureError) as info:
        verify_signature(BODY, header, KEY)
    assert info.value.reason == "malformed"
    if len(header) > len("sha256="):  # the received value is not echoed
        assert header not in str(info.value) or header == "no-secret-provided"


def test_no_secret_provided_explains_the_cause() -> None:
    with pytest.raises(WebhookSignatureError, match="no secret"):
        verify_signature(BODY, "no-secret-provided", KEY)


def test_invalid_signature() -> None:
    with pytest.raises(WebhookSignatureError) as info:
        verify_signature(BODY, "0" * 64, KEY)
    assert info.value.reason == "mismatch"


def test_wrong_secret() -> None:
    with pytest.raises(WebhookSignatureError, match="does not match") as info:
        verify_signature(BODY, sign(BODY, OTHER_KEY), KEY)
    assert info.value.reason == "mismatch"
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda b: b.replace(b"Ann Attendee", b"Eve Attendee", 1),
        lambda b: b + b" ",
        lambda b: b[:-1],
        lambda b: orjson.dumps(orjson.loads(b), option=orjson.OPT_INDENT_2),  # re-serialised
        lambda b: b"",
    ],
)
def test_tampered_body(tamper: Any) -> None:
    signature = sign(BODY, KEY)
    with pytest.raises(WebhookSignatureError) as info:
        verify_signature(tamper(BODY), signature, KEY)
    assert info.value.reason == "mismatch"


def test_non_utf8_body_is_verified_on_its_bytes_then_parse_says_why() -> None:
    body = b'{"triggerEvent":"BOOKING_CREATED","x":"\xff\xfe"}'
    verify_signature(body, sign(body, KEY), KEY)  # the signature is over bytes
    with pytest.raises(WebhookSignatureError):
        verify_signature(body, sign(body.replace(b"\xff", b"\xfe"), KEY), KEY)
    with pytest.raises(WebhookPayloadError, match=r"not UTF-8 \(byte 0xff at offset 39\)"):
        construct_event(body, sign(body, KEY), KEY)


def test_rotation_with_two_secrets() -> None:
    secrets = [KEY, OLD_KEY]
    verify_signature(BODY, sign(BODY, KEY), secrets)
    verify_signature(BODY, sign(BODY, OLD_KEY), secrets)
    verify_signature(BODY, sign(BODY, OLD_KEY), (OLD_KEY,))
    with pytest.raises(WebhookSignatureError, match="any of the 2 secrets"):
        verify_signature(BODY, sign(BODY, RETIRED_KEY), secrets)


def test_accepts_bytearray_and_memoryview() -> None:
    verify_signature(bytearray(BODY), sign(BODY, KEY), KEY)
    verify_signature(memoryview(BODY), sign(memoryview(BODY), KEY), KEY)


def test_a_str_body_is_refused_because_it_may_not_be_the_signed_bytes() -> None:
    with pytest.raises(CalComUsageError, match="raw request bytes"):
        verify_signature(BODY.decode(), sign(BODY, KEY), KEY)  # type: ignore[arg-type]
    with pytest.raises(CalComUsageError, match="raw request bytes"):
        parse_event(BODY.decode())  # type: ignore[arg-type]


@pytest.mark.parametrize("secret", ["", [], [""], [KEY, ""], None, 42])
def test_bad_secret_is_a_usage_error(secret: Any) -> None:
    with pytest.raises(CalComUsageError, match="secret"):
        verify_signature(BODY, sign(BODY, KEY), secret)


def test_sign_takes_one_secret() -> None:
    with pytest.raises(CalComUsageError, match="one secret"):
        sign(BODY, [KEY, OLD_KEY])  # type: ignore[arg-type]


# --- parse_event ----------------------------------------------------------------------------------


def test_every_trigger_of_the_document_is_in_the_enum_and_typed() -> None:
    document = raw_document()
    triggers = document["components"]["schemas"]["CreateWebhookInputDto"]["properties"]["triggers"][
        "enum"
    ]
    assert {t.value for t in WebhookTriggerEvent} == set(triggers)
    assert set(PAYLOAD_TYPES) == set(WebhookTriggerEvent)


def _subset(typed: Any, raw: Any, where: str = "payload") -> None:
    """Every typed value (unstructured back to JSON) is what the raw JSON had, under its name."""
    if isinstance(typed, dict):
        assert isinstance(raw, dict), where
        for key, value in typed.items():
            assert key in raw, f"{where}.{key} not in the raw payload"
            _subset(value, raw[key], f"{where}.{key}")
    elif isinstance(typed, list):
        assert isinstance(raw, list) and len(typed) == len(raw), where
        for i, (a, b) in enumerate(zip(typed, raw, strict=True)):
            _subset(a, b, f"{where}[{i}]")
    elif isinstance(raw, str) and isinstance(typed, str) and raw.endswith("Z"):
        assert dt.datetime.fromisoformat(typed) == dt.datetime.fromisoformat(raw), where
    else:
        assert typed == raw, where


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _no_missed_fields(obj: Any, raw: Any, where: str = "payload") -> int:
    """A raw key whose snake_case name is a field must have been read (a wrong JSON name would
    leave it UNSET). Returns how many fields were checked."""
    checked = 0
    if attrs.has(type(obj)):
        names = {a.name for a in attrs.fields(type(obj))}
        for key, value in raw.items():
            name = {"iCalUID": "i_cal_uid"}.get(key, _snake(key))
            if name in names:
                field = getattr(obj, name)
                assert field is not UNSET, f"{where}.{key} was not read into .{name}"
                checked += 1 + _no_missed_fields(field, value, f"{where}.{key}")
    elif isinstance(obj, list):
        for i, (a, b) in enumerate(zip(obj, raw, strict=True)):
            checked += _no_missed_fields(a, b, f"{where}[{i}]")
    elif isinstance(obj, dict) and isinstance(raw, dict):
        for key, value in obj.items():
            checked += _no_missed_fields(value, raw[key], f"{where}.{key}")
    return checked


@pytest.mark.parametrize("trigger", list(WebhookTriggerEvent), ids=str)
def test_every_trigger_round_trips(trigger: WebhookTriggerEvent) -> None:
    payload = payload_for(trigger)
    body = body_for(trigger.value, payload)
    event = parse_event(body)
    assert event.trigger_event is trigger and event.trigger_event.is_known
    assert event.created_at == dt.datetime(2026, 3, 2, 9, 15, 30, 538000, tzinfo=dt.UTC)
    assert event.templated is False
    assert event.raw_payload == payload
    assert event.body == body
    assert event.delivery_id == hashlib.sha256(body).hexdigest()
    assert type(event.payload) is PAYLOAD_TYPES[trigger], event.payload
    back = unstructure(event.payload)
    assert back, "nothing typed"
    _subset(back, payload)
    assert _no_missed_fields(event.payload, payload) >= len(back)


def test_booking_payload_fields() -> None:
    payload = payload_for(WebhookTriggerEvent.BOOKING_RESCHEDULED)
    event = parse_event(body_for("BOOKING_RESCHEDULED", payload))
    booking = event.booking
    assert isinstance(booking, BookingPayload)
    assert booking.uid == "aXzGKUXZ5Jcp9RrL7dpyNV"
    assert booking.booking_id == 91
    assert booking.type == "30min"
    assert booking.status is WebhookBookingStatus.ACCEPTED
    assert booking.start_time == dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC)
    assert booking.end_time.tzinfo is not None
    assert booking.organizer.email == "olga@example.com"
    assert booking.organizer.time_zone == "Europe/Berlin"
    assert booking.organizer.language and booking.organizer.language.locale == "en"
    assert booking.organizer.username == "olga"
    assert booking.attendees[0].name == "Ann Attendee"
    assert booking.attendees[0].utc_offset == -300
    assert booking.attendees[0].phone_number is None
    assert booking.response("email") == "ann@example.org"
    assert booking.response("guests") == []
    assert booking.response("missing") is None
    assert booking.video_call_data and booking.video_call_data.type == "daily_video"
    assert booking.event_type_id == 7
    assert booking.metadata == BOOKING["metadata"]
    assert booking.reschedule_uid == "oldUid123"
    assert booking.reschedule_start_time == dt.datetime(2026, 3, 9, 14, 0, tzinfo=dt.UTC)
    assert booking.rescheduled_by == "ann@example.org"
    assert booking.cancellation_reason is UNSET
    assert booking.price == 0


def test_trigger_specific_fields() -> None:
    cancelled = parse_event(body_for("BOOKING_CANCELLED")).booking
    assert cancelled is not None
    assert cancelled.status is WebhookBookingStatus.CANCELLED
    assert cancelled.cancellation_reason == "Something came up"
    assert cancelled.cancelled_by == "olga@example.com"
    rejected = parse_event(body_for("BOOKING_REJECTED")).booking
    assert rejected is not None and rejected.rejection_reason == "Fully booked that week"
    paid = parse_event(body_for("BOOKING_PAID")).booking
    assert paid is not None and paid.payment_id == 12 and paid.price == 50.5
    assert paid.payment_data == {"amount": 5000, "currency": "usd", "success": True}

    no_show = parse_event(body_for("BOOKING_NO_SHOW_UPDATED")).payload
    assert isinstance(no_show, NoShowUpdatedPayload)
    assert no_show.attendees and no_show.attendees[0].no_show is True

    meeting = parse_event(body_for("MEETING_ENDED")).payload
    assert isinstance(meeting, MeetingPayload)
    assert meeting.id == 91 and meeting.user and meeting.user.email == "olga@example.com"
    assert meeting.status is WebhookBookingStatus.ACCEPTED
    assert meeting.attendees and meeting.attendees[0].no_show is False

    recording = parse_event(body_for("RECORDING_READY")).payload
    assert isinstance(recording, RecordingReadyPayload)
    assert recording.download_link.startswith("https://")
    transcript = parse_event(body_for("RECORDING_TRANSCRIPTION_GENERATED")).payload
    assert isinstance(transcript, TranscriptionPayload)
    assert transcript.download_links and transcript.download_links.transcription
    assert transcript.download_links.transcription[0].format == "json"

    form = parse_event(body_for("FORM_SUBMITTED")).payload
    assert isinstance(form, FormSubmittedPayload)
    assert form.form_name == "Sales routing" and form.team_id is None
    assert form.responses == {
        "b0f8": {"value": "ann@example.org", "response": "ann@example.org"},
        "c1a2": {"value": "Enterprise", "response": "Enterprise"},
    }

    ooo = parse_event(body_for("OOO_CREATED")).payload
    assert isinstance(ooo, OutOfOfficePayload)
    assert ooo.ooo_entry.start == dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    assert ooo.ooo_entry.user and ooo.ooo_entry.user.username == "olga"
    assert ooo.ooo_entry.to_user is None
    assert ooo.ooo_entry.reason and ooo.ooo_entry.reason.reason == "vacation"

    no_show_host = parse_event(body_for("AFTER_HOSTS_CAL_VIDEO_NO_SHOW")).payload
    assert isinstance(no_show_host, CalVideoNoShowPayload)
    assert no_show_host.booking_id == 91 and no_show_host.host_email == "olga@example.com"
    assert parse_event(body_for("AFTER_GUESTS_CAL_VIDEO_NO_SHOW")).booking is None


def test_unknown_fields_are_ignored_and_kept_raw() -> None:
    payload = {**payload_for(WebhookTriggerEvent.BOOKING_CREATED), "brandNewField": {"a": 1}}
    event = parse_event(body_for("BOOKING_CREATED", payload))
    assert isinstance(event.payload, BookingPayload)
    assert event.raw_payload["brandNewField"] == {"a": 1}  # type: ignore[index,call-overload]


def test_unknown_status_is_kept() -> None:
    payload = {**payload_for(WebhookTriggerEvent.BOOKING_CREATED), "status": "ON_HOLD"}
    booking = parse_event(body_for("BOOKING_CREATED", payload)).booking
    assert booking is not None
    assert booking.status == "ON_HOLD" and isinstance(booking.status, WebhookBookingStatus)
    assert not booking.status.is_known


def test_unknown_trigger_is_kept_with_a_raw_payload() -> None:
    # a trigger of Cal.com's newer than the pinned document
    payload = {"booking": {"id": 1}, "calendar": {"reason": "rejected"}}
    event = parse_event(body_for("CALENDAR_ENTRY_REJECTED", payload))
    assert event.trigger_event == "CALENDAR_ENTRY_REJECTED"
    assert isinstance(event.trigger_event, WebhookTriggerEvent)
    assert not event.trigger_event.is_known
    assert event.payload == payload and event.raw_payload == payload
    assert event.templated is False
    assert event.created_at is not None


def test_payload_that_no_longer_fits_its_class_is_typed_with_the_misfits_as_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from calcom_async._drift import reset_drift_memory

    reset_drift_memory()
    payload = payload_for(WebhookTriggerEvent.BOOKING_CREATED)
    del payload["organizer"]
    payload["startTime"] = "next tuesday"
    body = body_for("BOOKING_CREATED", payload)
    with caplog.at_level(logging.WARNING, logger="calcom_async.drift"):
        event = parse_event(body)
    booking = event.booking
    assert isinstance(booking, BookingPayload) and event.raw_payload == payload
    assert booking.start_time == "next tuesday"  # kept as it came
    assert booking.organizer is UNSET  # the missing key
    assert booking.title == payload["title"]  # the rest typed
    assert event.trigger_event is WebhookTriggerEvent.BOOKING_CREATED
    drift = sorted(r.getMessage() for r in caplog.records if r.name == "calcom_async.drift")
    assert len(drift) == 2
    assert "BookingPayload.organizer" in drift[0] and "BookingPayload.startTime" in drift[1]
    assert "next tuesday" not in " ".join(drift)  # JSON types, never values


def test_a_payload_that_is_not_an_object_is_kept_raw_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = body_for("BOOKING_CREATED", ["not", "an", "object"])
    event = parse_event(body)
    assert event.payload == ["not", "an", "object"] and event.booking is None


def test_created_at_with_offset_and_naive() -> None:
    aware = parse_event(body_for("BOOKING_CREATED", created_at="2026-03-02T10:15:30+01:00"))
    assert aware.created_at == dt.datetime(2026, 3, 2, 9, 15, 30, tzinfo=dt.UTC)
    naive = parse_event(body_for("BOOKING_CREATED", created_at="2026-03-02T09:15:30"))
    assert naive.created_at == dt.datetime(2026, 3, 2, 9, 15, 30, tzinfo=dt.UTC)


# --- templated and unreadable bodies --------------------------------------------------------------


def test_json_template_without_the_envelope_comes_back_raw() -> None:
    body = b'{"booking":"aXzGKUXZ5Jcp9RrL7dpyNV","who":"Ann Attendee","when":"2026-03-10T14:00"}'
    event = parse_event(body)
    assert event.templated is True
    assert event.trigger_event is None and event.created_at is None
    assert event.payload == orjson.loads(body) == event.raw_payload
    assert event.booking is None


def test_json_template_with_a_trigger_keeps_it() -> None:
    body = b'{"triggerEvent":"BOOKING_CREATED","createdAt":"' + CREATED_AT.encode() + b'","t":1}'
    event = parse_event(body)
    assert event.templated is True
    assert event.trigger_event is WebhookTriggerEvent.BOOKING_CREATED
    assert event.created_at is not None
    assert event.payload == {"triggerEvent": "BOOKING_CREATED", "createdAt": CREATED_AT, "t": 1}


@pytest.mark.parametrize(
    "body",
    [
        b"title=30+Min+Meeting&attendee=Ann&trigger=BOOKING_CREATED",  # form-encoded template
        b"Booking created: 30 Min Meeting",
        '{"text": "Réservation créée"'.encode(),  # broken JSON, still UTF-8
    ],
)
def test_non_json_template_comes_back_as_text(body: bytes) -> None:
    event = parse_event(body)
    assert event.templated is True
    assert event.payload == body.decode() == event.raw_payload
    assert event.trigger_event is None


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2, 3]",
        b'"just a string"',
        b'{"triggerEvent": 5, "payload": {}}',
        b'{"triggerEvent": "BOOKING_CREATED", "createdAt": "yesterday", "payload": {}}',
        b'{"triggerEvent": "BOOKING_CREATED", "createdAt": "2026-03-02T09:15:30Z"}',
    ],
)
def test_other_json_shapes_are_templated_not_errors(body: bytes) -> None:
    event = parse_event(body)
    assert event.templated is True
    assert event.raw_payload == orjson.loads(body)


def test_json_with_an_integer_past_64_bits_is_still_json() -> None:
    big = str(2**70).encode()  # orjson refuses it; the JSON grammar allows it
    body = body_for("BOOKING_CREATED").replace(
        b'"videoCallUrl"', b'"n":' + big + b',"videoCallUrl"'
    )
    event = parse_event(body)
    assert event.templated is False
    assert event.booking is not None and event.booking.metadata is not None
    assert event.booking.metadata["n"] == 2**70


def test_verified_template_body() -> None:
    body = b"booking=aXzGKUXZ5Jcp9RrL7dpyNV&event=BOOKING_CREATED"
    event = construct_event(body, "sha256=" + sign(body, KEY), KEY)
    assert event.templated and event.payload == body.decode()
    with pytest.raises(WebhookSignatureError):
        construct_event(body + b"&x=1", sign(body, KEY), KEY)


@pytest.mark.parametrize("body", [b"", b"  \n"])
def test_empty_body(body: bytes) -> None:
    with pytest.raises(WebhookPayloadError, match="empty"):
        parse_event(body)


def test_non_utf8_body_gives_a_clear_error() -> None:
    with pytest.raises(WebhookPayloadError, match="not UTF-8") as info:
        parse_event("Résumé".encode("latin-1"))
    assert isinstance(info.value, CalComError) and isinstance(info.value, ValueError)


def test_event_repr_leaves_out_the_body() -> None:
    event = parse_event(BODY)
    assert isinstance(event, WebhookEvent)
    assert "body=" not in repr(event)
    assert "BOOKING_CREATED" in repr(event)


# --- properties -----------------------------------------------------------------------------------


@given(
    body=st.binary(max_size=512),
    key=st.text(min_size=1, max_size=40),
    flip=st.integers(min_value=0),
)
def test_sign_verify_round_trip_and_any_one_byte_change_fails(
    body: bytes, key: str, flip: int
) -> None:
    signature = sign(body, key)
    assert signature == hex_hmac(key, body) and signature == signature.lower()
    verify_signature(body, signature, key)
    verify_signature(body, "sha256=" + signature, [KEY, key])
    if body:
        i = flip % len(body)
        changed = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]
        with pytest.raises(WebhookSignatureError):
            verify_signature(changed, signature, key)
    with pytest.raises(WebhookSignatureError):
        verify_signature(body + b"x", signature, key)
