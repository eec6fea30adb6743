"""The checkpoint of ``cal.bookings.sync()`` (:mod:`calcom_async._sync`): where a sync stands
(the watermark, the versions yielded at it, the first pass while it runs) and its JSON, the text
you persist with what you did with each booking (or the client's store keeps, ``checkpoint_key``).
"""

from __future__ import annotations

import datetime as dt

import attrs
import orjson

from ._errors import CalComUsageError
from ._scalars import format_datetime

__all__ = ["FirstPass", "SyncCheckpoint", "parse_stamp"]


def parse_stamp(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@attrs.define
class FirstPass:
    """Where the first pass stands: the ``createdAt`` it has read down to, and the bookings it
    has read with exactly that ``createdAt`` (``None``: it has not begun)."""

    created: dt.datetime | None = None
    uids: list[str] = attrs.field(factory=list)


@attrs.define
class SyncCheckpoint:
    """Where a sync stands: the watermark and the versions yielded at (or just before) it, and
    the first pass while it runs."""

    watermark: dt.datetime | None = None
    #: uid -> updatedAt (ISO) of the versions yielded within ``overlap`` of the watermark (and,
    #: during the first pass, at or after it)
    seen: dict[str, str] = attrs.field(factory=dict)
    first: FirstPass | None = None

    def to_json(self) -> str:
        first = self.first
        return orjson.dumps(
            {
                "watermark": format_datetime(self.watermark) if self.watermark else None,
                "seen": self.seen,
                "first": None
                if first is None
                else {
                    "createdAt": format_datetime(first.created) if first.created else None,
                    "uids": first.uids,
                },
            }
        ).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> SyncCheckpoint:
        try:
            data = orjson.loads(text)
            watermark = parse_stamp(data["watermark"]) if data.get("watermark") else None
            seen = {str(k): str(v) for k, v in data.get("seen", {}).items()}
            raw = data.get("first")
            first = None
            if raw is not None:
                created = parse_stamp(raw["createdAt"]) if raw.get("createdAt") else None
                first = FirstPass(created, [str(uid) for uid in raw.get("uids", [])])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CalComUsageError(f"not a sync checkpoint: {exc}") from None
        return cls(watermark=watermark, seen=seen, first=first)
