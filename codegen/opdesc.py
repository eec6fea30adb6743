"""What the templates render of one operation: an :class:`OpDesc`, its parameters and body fields.

Each :class:`OpDesc` carries what the generated method and the operation-table row need: public
name, parameters with Python types, body and response classes, required ``cal-api-version``,
auth modes and pagination style. ``describe.py`` makes one from an operation of the document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .annotate import split_union


@dataclass
class ParamDesc:
    name: str
    python_name: str
    location: str
    required: bool
    annotation: str
    description: str = ""
    explode: bool = True


@dataclass
class BodyField:
    name: str  # attribute name on the model
    python_name: str  # keyword argument name
    annotation: str
    required: bool


@dataclass
class OpDesc:
    operation_id: str
    namespace: str
    method_name: str
    http_method: str
    path: str
    summary: str
    description: str
    params: list[ParamDesc]
    body: str | None
    body_required: bool
    body_fields: list[BodyField] | None
    response: str | None
    unwrap: bool
    returns: str
    api_version: str | None
    auth: list[str]
    auth_required: bool
    pagination: str | None
    anonymous: bool = False  #: ``security: []``: the call sends no credentials
    max_page_size: int | None = None
    deprecated: str | None = None  #: why the operation is deprecated (None: it is not)
    #: every ``cal-api-version`` it answers to: the document's, then the live API's (overlay)
    versions: list[str] = field(default_factory=list)
    #: rows of its own for live versions whose parameters or answer differ
    variants: list[OpDesc] = field(default_factory=list)
    #: the body's model, or the models of a union body in the document's order (keyword
    #: fields build the first that has every field given and all it requires)
    body_models: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def const(self) -> str:
        base = (self.namespace.replace(".", "_") + "_" + self.method_name).upper()
        if "@" in self.operation_id:  # a live version's row: BOOKINGS_LIST_2026_05_01
            return base + "_" + self.operation_id.rsplit("@", 1)[1].replace("-", "_")
        return base

    @property
    def item_type(self) -> str:
        """What a paginated walk yields: the element type of the returned list."""
        if self.returns.startswith("list[") and self.returns.endswith("]"):
            return self.returns[5:-1]
        return "Any" if self.returns == "Any" else self.returns

    @property
    def public_name(self) -> str:
        return f"{self.namespace}.{self.method_name}"

    @property
    def members(self) -> list[str]:
        """The types a union answer can be (``None`` left out), which ``expect=`` narrows to;
        empty for an answer of one type and for paginated lists (their items are mixed)."""
        if self.pagination:
            return []
        found = [part for part in split_union(self.returns) if part not in ("None", "Any")]
        return found if len(found) > 1 else []

    @property
    def type_var(self) -> str:
        """The name of the ``TypeVar`` its ``expect=`` overload binds (bound: the union)."""
        return f"_T_{self.const}"
