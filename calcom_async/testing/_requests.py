"""What the fake records of each request it answered."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RequestRecord"]


@dataclass
class RequestRecord:
    """One request the fake answered (or dropped)."""

    method: str
    path: str
    operation: str
    status: int
    request_id: str | None
    api_version: str | None
    query: dict[str, str] = field(default_factory=dict)
