"""Reading an answer: the last step of the request pipeline, behind ``APIResponse.parse``.

:func:`parse_response` decodes the JSON, structures it into the operation's model
(``_serde``: tolerant, each deviation reported once per process on ``calcom_async.drift`` by
``_drift``; strict on request) and unwraps the ``{"status": "success", "data": …}`` envelope.
It loads cattrs and the models' structuring, so the pipeline imports it with the first answer
(``_pipeline._reader``), not with ``import calcom_async``.
"""

from __future__ import annotations

from typing import Any

import cattrs

from ._drift import SchemaMismatchError, report_answer_misfit, report_deviations
from ._errors import ResponseValidationError
from ._operation import Operation
from ._response import APIResponse
from ._serde import structure_reporting

__all__ = ["describe_error", "parse_response"]


def parse_response(op: Operation, response: APIResponse[Any], *, strict: bool = False) -> Any:
    """Decode, structure and unwrap an answer (the work behind ``APIResponse.parse``).

    Tolerant unless ``strict``: a value that deviates from its model is kept as sent and reported
    once per process on ``calcom_async.drift`` (``calcom_async._drift``)."""
    if response.status_code == 204:
        return None
    if op.response is None:  # the document does not describe the answer: the JSON as sent
        return response.json()
    data = response.json()
    try:
        result, found = structure_reporting(data, op.response_type(), strict=strict)
    except SchemaMismatchError as exc:
        if strict:
            raise _does_not_fit(op, response, data, exc) from exc
        # not even an object where the envelope was declared: the answer as it came
        report_answer_misfit(op.name, op.response or "", data)
        return data.get("data", data) if op.unwrap and isinstance(data, dict) else data
    except Exception as exc:
        raise _does_not_fit(op, response, data, exc) from exc
    report_deviations(found, data, where=f"{op.name} ")
    return result.data if op.unwrap else result


def _does_not_fit(
    op: Operation, response: APIResponse[Any], data: Any, exc: Exception
) -> ResponseValidationError:
    return ResponseValidationError(
        f"{op.name}: the answer does not fit {op.response} ({describe_error(exc)})",
        raw=data,
        status_code=response.status_code,
        request_id=response.request_id,
    )


def describe_error(exc: Exception) -> str:
    """A structuring error in a line: cattrs' own account of what did not fit, or its text."""
    try:
        if isinstance(exc, cattrs.BaseValidationError):
            return "; ".join(cattrs.transform_error(exc))[:500]
    except Exception:
        pass
    text = str(exc)
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__
