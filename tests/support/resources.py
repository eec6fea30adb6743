"""The generated resource classes, found in the package (no hard-coded list), and the methods
of a raw twin."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any

from calcom_async._generated import resources
from calcom_async._resource import BaseResource


def async_resource_classes() -> Iterator[type[BaseResource]]:
    """Every class the modules of ``calcom_async._generated.resources`` export."""
    for info in pkgutil.iter_modules(resources.__path__, resources.__name__ + "."):
        module = importlib.import_module(info.name)
        for name in module.__all__:
            yield getattr(module, name)


def wrapped_members(cls: type) -> dict[str, Any]:
    """A raw twin's methods that wrap the plain ones (``to_raw_response_wrapper``): set on each
    instance, bound to a resource made with ``raw=True``."""
    if not cls.__name__.endswith("WithRawResponse"):
        return {}
    twin = cls(None)
    return {k: v for k, v in vars(twin).items() if not k.startswith("_")}
