"""Every answer the live API really sent (tests/fixtures/live/) comes back typed (issue 14)."""

from __future__ import annotations

import logging
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calcom_async import APIStatusError
from calcom_async._drift import SchemaMismatchError, report_deviations, reset_drift_memory
from calcom_async._generated import models
from calcom_async._serde import structure, structure_reporting
from tests.models._live import Recorded, locations, mutate, operation_of, recorded, replay
from tests.support.samples import sample

ANSWERS = recorded()


def test_there_are_recorded_answers_of_several_kinds() -> None:
    assert len(ANSWERS) >= 15
    assert any(a.status >= 400 for a in ANSWERS)
    assert any(a.version == "2026-05-01" for a in ANSWERS)


def _expected_class(answer: Recorded) -> Any:
    op, _ = operation_of(answer)
    cls = op.response_type()
    if cls is None or not op.unwrap:
        return cls
    return attrs.fields_dict(cls)["data"].type


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: a.name)
async def test_a_recorded_answer_comes_back_typed(answer: Recorded) -> None:
    op, _ = operation_of(answer)
    body_type = op.body_type()
    body = sample(body_type) if body_type is not None else None
    if answer.status >= 400:
        with pytest.raises(APIStatusError) as caught:
            await replay(answer, body)
        error = caught.value
        assert error.status_code == answer.status
        recorded_error = answer.body.get("error") or {}
        assert error.message == recorded_error.get("message")
        assert error.code == recorded_error.get("code")
        return
    result = await replay(answer, body)
    if isinstance(result, dict):  # the slots answer: each date to its slots
        result = [slot for slots in result.values() for slot in slots]
        assert result, answer.name
        recorded_slots = answer.body["data"].values()
        assert len(result) == sum(len(day) for day in recorded_slots)
        return _all_models(result, answer)
    items = result if isinstance(result, list) else [result]
    recorded_data = answer.body.get("data") if isinstance(answer.body, dict) else answer.body
    assert len(items) == (len(recorded_data) if isinstance(recorded_data, list) else 1)
    _all_models(items, answer)


def _all_models(items: list[Any], answer: Recorded) -> None:
    for item in items:
        assert attrs.has(type(item)), f"{answer.name}: {type(item).__name__} is not a model"
        assert type(item).__module__.startswith(models.__name__), type(item)


# -- mutations of real answers (Hypothesis) ----------------------------------------------------

SUCCESSES = [a for a in ANSWERS if a.status < 400]


@pytest.mark.parametrize("answer", SUCCESSES, ids=lambda a: a.name)
def test_mutated_real_answers_stay_typed_and_strict_raises(answer: Recorded) -> None:
    op, _ = operation_of(answer)
    tp = op.response_type()
    assert tp is not None
    places = [p for p in locations(answer.body) if p[0] == "data"]
    assume_places = places or [("data",)]

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(assume_places), st.sampled_from(["drop", "null", "shape", "scalar"]))
    def run(where: tuple[Any, ...], how: str) -> None:
        body = mutate(answer.body, where, how)
        reset_drift_memory()
        value, found = structure_reporting(body, tp)
        assert attrs.has(type(value)), type(value)  # the envelope: typed
        data = value.data
        items = (
            data
            if isinstance(data, list)
            else list(data.values())
            if isinstance(data, dict)
            else [data]
        )
        # every item typed, or a deviation that says why not (None: a declared null)
        flat = [x for i in items for x in (i if isinstance(i, list) else [i])]  # slots: days
        untyped = [i for i in flat if i is not None and not attrs.has(type(i))]
        assert not untyped or found, (where, how, untyped[:1])
        if found:
            with pytest.raises(SchemaMismatchError):
                structure(body, tp, strict=True)
            log = logging.getLogger("calcom_async.drift")
            records: list[logging.LogRecord] = []
            handler = logging.Handler()
            handler.emit = records.append  # type: ignore[method-assign]
            log.addHandler(handler)
            try:
                report_deviations(found, body)
                first = len(records)
                report_deviations(found, body)  # once per process
            finally:
                log.removeHandler(handler)
            assert first == len({d.key for d in found}) and len(records) == first
        else:
            assert structure(body, tp, strict=True) is not None

    run()
