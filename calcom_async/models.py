"""Every schema of the Cal.com v2 document as an attrs class: ``from calcom_async.models import X``.

The classes are generated (``calcom_async/_generated/models``) and load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._generated import models as _models

if TYPE_CHECKING:
    from ._generated.models import *  # noqa: F403

__all__ = _models.__all__


def __getattr__(name: str) -> Any:
    return getattr(_models, name)


def __dir__() -> list[str]:
    return list(__all__)
