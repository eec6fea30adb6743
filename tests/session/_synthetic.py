"""Synthetic operation rows for the session tests: a GET /v2/things/{thingId} whose models are
test classes, so a test of the pipeline does not depend on a generated row."""

from __future__ import annotations

from typing import Any

import attrs

from calcom_async._operation import AuthMode, Operation, Param
from calcom_async._types import UNSET, Unset


@attrs.define(kw_only=True)
class Thing:
    id: int
    uid: str
    title: str | Unset = UNSET


@attrs.define(kw_only=True)
class ThingEnvelope:
    status: str
    data: Thing


@attrs.frozen(slots=True)
class SynthOp(Operation):
    """An operation row whose models are test classes."""

    response_cls: Any = None
    body_cls: Any = None

    def response_type(self) -> Any:
        return self.response_cls

    def body_type(self) -> Any:
        return self.body_cls


def make_op(**overrides: Any) -> Operation:
    """A GET /v2/things/{thingId} row returning an enveloped ``Thing``; override any field."""
    fields: dict[str, Any] = {
        "operation_id": "ThingsController_get",
        "name": "things.get",
        "method": "GET",
        "path": "/v2/things/{thingId}",
        "params": (
            Param("thingId", python_name="thing_id", location="path", required=True),
            Param("take", location="query", type=int),
        ),
        "body": None,
        "body_required": False,
        "response": "ThingEnvelope",
        "unwrap": True,
        "api_version": None,
        "auth": frozenset({AuthMode.API_KEY, AuthMode.ACCESS_TOKEN}),
        "auth_required": True,
        "pagination": None,
        "response_cls": ThingEnvelope,
    }
    fields.update(overrides)
    if fields["response"] is None:
        fields["response_cls"] = None
    return SynthOp(**fields)
