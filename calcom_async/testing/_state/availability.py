"""Availability: the free slots of an event type (its schedule's windows minus bookings,
reservations, buffers and the minimum notice)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from .core import WEEKDAYS
from .event_types import EventTypesState

__all__ = ["BUSY_STATUSES", "MAX_SLOT_DAYS", "AvailabilityState"]

BUSY_STATUSES = frozenset({"accepted", "pending"})
MAX_SLOT_DAYS = 62


class AvailabilityState(EventTypesState):
    """What is busy, and what is free."""

    def busy(
        self, host_id: int, lo: float, hi: float, exclude: str | None
    ) -> list[tuple[float, float]]:
        out = [
            (b.start, b.end)
            for b in self.bookings.values()
            if b.host_id == host_id
            and b.status in BUSY_STATUSES
            and b.uid != exclude
            and b.start < hi
            and b.end > lo
        ]
        now = self.now()
        for r in list(self.reservations.values()):
            if r.until <= now:
                del self.reservations[r.uid]
            elif self.event_type_owner.get(r.event_type_id) == host_id and r.start < hi:
                out.append((r.start, r.end))
        return out

    def free_slots(
        self,
        et_id: int,
        lo: float,
        hi: float,
        *,
        duration: int | None = None,
        exclude: str | None = None,
    ) -> list[tuple[float, float]]:
        """Start/end of every bookable slot starting in [lo, hi]: the schedule's windows minus
        bookings, reservations, buffers and the minimum notice."""
        et = self.event_types[et_id]
        schedule = self.schedule_for(et_id)
        zone = ZoneInfo(schedule["timeZone"])
        length = duration or int(et["lengthInMinutes"])
        step = int(et.get("slotInterval") or length) * 60
        before = int(et.get("beforeEventBuffer") or 0) * 60
        after = int(et.get("afterEventBuffer") or 0) * 60
        earliest = self.now() + int(et.get("minimumBookingNotice") or 0) * 60
        busy = self.busy(self.event_type_owner[et_id], lo - 86400, hi + 86400, exclude)
        overrides: dict[str, list[dict[str, Any]]] = {}
        for item in schedule.get("overrides") or []:
            overrides.setdefault(str(item["date"]), []).append(item)
        first = dt.datetime.fromtimestamp(lo, zone).date() - dt.timedelta(days=1)
        last = dt.datetime.fromtimestamp(hi, zone).date()
        out: list[tuple[float, float]] = []
        day = first
        while day <= last:
            windows = overrides.get(day.isoformat())
            if windows is None:
                name = WEEKDAYS[day.weekday()]
                windows = [w for w in schedule["availability"] if name in w.get("days", [])]
            for window in windows:
                start = _at(day, window["startTime"], zone)
                stop = _at(day, window["endTime"], zone)
                t = start
                while t + length * 60 <= stop:
                    end = t + length * 60
                    if (
                        lo <= t <= hi
                        and t >= earliest
                        and not any(b0 < end + after and b1 > t - before for b0, b1 in busy)
                    ):
                        out.append((t, end))
                    t += step
            day += dt.timedelta(days=1)
        return sorted(set(out))

    def is_free(self, et_id: int, start: float, length: int, exclude: str | None = None) -> bool:
        return (start, start + length * 60) in set(
            self.free_slots(et_id, start, start, duration=length, exclude=exclude)
        )


def _at(day: dt.date, hhmm: str, zone: ZoneInfo) -> float:
    hour, minute = (int(x) for x in hhmm.split(":")[:2])
    if hour >= 24:
        nxt = day + dt.timedelta(days=1)
        return dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).timestamp()
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).timestamp()
