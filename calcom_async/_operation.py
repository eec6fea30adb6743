"""The shape of one row of the generated operation table.

The generator (``codegen/``) writes one :class:`Operation` per operation of the OpenAPI document
(and of the overlay's ``x-calcom-operations``: the OAuth endpoints the document leaves out) into
``calcom_async/_generated/operations.py``, as keyword arguments that leave the defaults out:

    ME_GET: Operation[_m.MeOutput] = Operation(
        operation_id="MeController_getMe", name="me.get", method="GET", path="/v2/me",
        response="MeOutput", unwrap=True, auth=BEARER, auth_required=True, summary="Get my profile",
    )

A parameter carries its real Python type (``Param("orgId", python_name="org_id",
location="path", required=True, type=int)``), which the argument checks read
(``calcom_async._check``). The body and the answer are models of the (big) models package,
named here and imported on first use; the answer's type is also the row's type parameter
(``Operation[T]``), so a generated method returning ``await self._request(op, …)`` is typed
``T`` with no cast. The session reads these rows; nothing in hand-written code hard-codes
per-endpoint facts (version header, auth, pagination).
"""

from __future__ import annotations

import enum
import functools
import importlib
import re
from collections.abc import Mapping
from typing import Any, Generic, Literal

import attrs
from typing_extensions import TypeVar

__all__ = ["BEARER", "AuthMode", "Operation", "Pagination", "Param"]

#: what the operation's method returns (``Operation`` alone: ``Operation[Any]``)
T = TypeVar("T", default=Any)

_MODELS = "calcom_async._generated.models"
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class AuthMode(enum.Enum):
    """A way of authenticating a call, as the document declares it per operation."""

    API_KEY = "api_key"  #: ``Authorization: Bearer cal_…``
    ACCESS_TOKEN = "access_token"  #: ``Authorization: Bearer <managed-user access token>``
    PLATFORM = "platform"  #: ``x-cal-client-id`` / ``x-cal-secret-key``


class Pagination(enum.Enum):
    """How a list operation pages."""

    TAKE_SKIP = "take_skip"  #: ``take``/``skip`` query, ``pagination`` meta in the envelope
    BARE_LIST = "bare_list"  #: ``take``/``skip`` query, a bare list: last page is a short one
    LIMIT = "limit"  #: ``limit``/``offset`` query
    CURSOR = "cursor"  #: ``limit``/``cursor`` query, ``nextCursor`` in the answer


#: ``Authorization: Bearer …``: an API key or a managed-user access token
BEARER = frozenset({AuthMode.API_KEY, AuthMode.ACCESS_TOKEN})


@attrs.frozen(slots=True, kw_only=True)
class Param:
    """One path, query or header parameter of an operation."""

    name: str = attrs.field(kw_only=False)  #: the wire name (``bookingUid``)
    #: the argument name of the generated method (``booking_uid``; default: the wire name)
    python_name: str = attrs.field(default=attrs.Factory(lambda self: self.name, takes_self=True))
    location: Literal["path", "query", "header"]
    required: bool = False
    #: the Python type of the argument, as the generated method annotates it (``int``,
    #: ``Sequence[Literal["upcoming", "past"]]``, ``datetime | str``); checked before sending
    type: Any = str
    explode: bool = True  #: arrays: ``a=1&a=2`` (True) or ``a=1,2`` (False)


@attrs.frozen(slots=True, kw_only=True, cache_hash=True)
class Operation(Generic[T]):
    """Everything the session needs to know to send one operation; ``T`` is what its method
    returns (the answer, or the envelope's ``data``). Its hash is computed once: what is fixed
    per row (``Auth``'s headers) is looked up by the row itself on every call."""

    operation_id: str  #: the document's operationId
    name: str  #: dotted public name, e.g. ``bookings.cancel``
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str  #: path template, e.g. ``/v2/bookings/{bookingUid}/cancel``
    params: tuple[Param, ...] = ()
    body: str | None = None  #: request body model name in the models package, or None
    body_required: bool = False
    #: response model name (usually an envelope), or None: the answer is read as the JSON sent
    response: str | None = None
    unwrap: bool = False  #: the response model is an envelope whose ``data`` the method returns
    api_version: str | None = None  #: the ``cal-api-version`` the operation requires
    auth: frozenset[AuthMode] = frozenset()  #: accepted auth modes; empty: none declared
    auth_required: bool = False  #: the document marks an auth header as required
    #: send no credentials at all (the document's ``security: []``): they travel in the body
    anonymous: bool = False
    pagination: Pagination | None = None
    summary: str = ""
    max_page_size: int | None = None  #: the document's ``maximum`` for ``take``/``limit``
    deprecated: str | None = None  #: why the document deprecates it (None: it does not)
    #: every ``cal-api-version`` it answers to when the live API knows more than the document
    #: (empty: only ``api_version``); ``VARIANTS`` has a row for those that answer differently
    versions: frozenset[str] = frozenset()
    # split once, read on every request
    _path: tuple[Param, ...] = attrs.field(init=False, repr=False, eq=False)
    _query: tuple[Param, ...] = attrs.field(init=False, repr=False, eq=False)
    # built on first use (an operation table has hundreds of rows, a program uses a few)
    _query_by_name: dict[str, Param] | None = attrs.field(
        init=False, default=None, repr=False, eq=False
    )
    _template: tuple[tuple[str, str, Param | None], ...] | None = attrs.field(
        init=False, default=None, repr=False, eq=False
    )

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_path", tuple(p for p in self.params if p.location == "path"))
        object.__setattr__(self, "_query", tuple(p for p in self.params if p.location == "query"))

    @property
    def path_params(self) -> tuple[Param, ...]:
        return self._path

    @property
    def query_params(self) -> tuple[Param, ...]:
        return self._query

    @property
    def query_params_by_name(self) -> Mapping[str, Param]:
        """The query parameters by wire name."""
        by_name = self._query_by_name
        if by_name is None:
            by_name = {p.name: p for p in self._query}
            object.__setattr__(self, "_query_by_name", by_name)
        return by_name

    @property
    def path_template(self) -> tuple[tuple[str, str, Param | None], ...]:
        """The path split once: (literal text, placeholder name or ``""`` at the end, the
        placeholder's declared parameter or None)."""
        template = self._template
        if template is None:
            by_name = {p.name: p for p in self._path}
            # (text before a placeholder, its name, its parameter) triples; the text after the
            # last placeholder is the final triple's, with an empty name
            pieces = _PLACEHOLDER.split(self.path)
            template = (
                *(
                    (pieces[i], pieces[i + 1], by_name.get(pieces[i + 1]))
                    for i in range(0, len(pieces) - 1, 2)
                ),
                (pieces[-1], "", None),
            )
            object.__setattr__(self, "_template", template)
        return template

    @property
    def pin_keys(self) -> tuple[str, ...]:
        """What ``CalCom(api_versions={…})`` may pin this operation by, the most specific first:
        its name, its operationId, then its families (``organizations.teams``,
        ``organizations``)."""
        parts = self.name.split(".")
        families = (".".join(parts[:n]) for n in range(len(parts) - 1, 0, -1))
        return (self.name, self.operation_id, *families)

    @property
    def known_versions(self) -> frozenset[str]:
        """The versions the table knows for this operation (empty: it takes no header)."""
        if self.versions:
            return self.versions
        return frozenset({self.api_version}) if self.api_version else frozenset()

    @property
    def is_idempotent(self) -> bool:
        """GET, PUT and DELETE may be re-sent after a failure the server may have seen."""
        return self.method in ("GET", "PUT", "DELETE")

    def body_type(self) -> type[Any] | None:
        """The request body class (imported on first use)."""
        return _model(self.body) if self.body else None

    def response_type(self) -> type[Any] | None:
        """The response class (imported on first use)."""
        return _model(self.response) if self.response else None


@functools.cache  # looked up on every answer
def _model(name: str) -> type[Any]:
    models = importlib.import_module(_MODELS)
    cls: type[Any] = getattr(models, name)
    return cls
