"""The generated resource classes, found in the package (no hard-coded list)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

from calcom_async._generated import resources
from calcom_async._resource import BaseResource


def async_resource_classes() -> Iterator[type[BaseResource]]:
    """Every class the modules of ``calcom_async._generated.resources`` export."""
    for info in pkgutil.iter_modules(resources.__path__, resources.__name__ + "."):
        module = importlib.import_module(info.name)
        for name in module.__all__:
            yield getattr(module, name)
