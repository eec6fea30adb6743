"""``calcom api METHOD PATH``: any endpoint through the client's pipeline, JSON out (like
``gh api``).

The call is ``cal.with_raw_response.request(...)`` (``calcom_async._custom``): auth, the
``cal-api-version``, the request id, retries and the rate limiter are the client's. When METHOD
and PATH are an operation of the client's table, the call sends that operation's version (and
its auth: the platform pair for the OAuth-client endpoints) unless ``--version`` says otherwise.

Parameters (as ``gh api``): ``-F key=value`` is typed — ``true``, ``false``, ``null`` and
numbers become JSON literals, ``@file`` reads a file (``@-``: stdin) — and ``-f key=value`` is
always a string. ``key[]=v`` appends to a list, ``key[sub]=v`` sets a field of an object. For GET
and DELETE they are the query; otherwise the JSON body (``--input FILE`` gives a whole body).
"""

from __future__ import annotations

import re
import sys
from typing import IO, Any, cast

import click
import orjson

from .._custom import HTTPMethod
from .._errors import APIStatusError
from .._generated.operations import OPERATIONS
from .._operation import AuthMode, Operation
from ._common import Settings, get_settings, run
from ._errors import CLIError

__all__ = ["api", "parse_fields"]

_KEY = re.compile(r"([^\[\]=]+)((?:\[[^\[\]]*\])*)")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_QUERY_METHODS = frozenset({"GET", "DELETE"})


def _typed(value: str) -> Any:
    """A ``-F`` value: JSON literals and numbers parsed, ``@file`` read, else the string."""
    if value in ("true", "false", "null"):
        return {"true": True, "false": False, "null": None}[value]
    if _NUMBER.fullmatch(value):
        number: int | float = float(value) if any(c in value for c in ".eE") else int(value)
        return number
    if value.startswith("@"):
        name = value[1:]
        try:
            if name == "-":
                return sys.stdin.read()
            with open(name, encoding="utf-8") as fh:
                return fh.read()
        except OSError as exc:
            raise CLIError(f"-F …={value}: cannot read {name!r}: {exc.strerror}") from None
    return value


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    match = _KEY.fullmatch(key)
    if match is None:
        raise CLIError(f"{key!r} is not a parameter name (name, name[], name[field])")
    parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
    node: Any = target
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "":
            if not last:
                raise CLIError(f"{key!r}: [] may only end a name (name[]=value)")
            if not isinstance(node, list):
                raise CLIError(f"{key!r}: {parts[i - 1]!r} is not a list")
            node.append(value)
            return
        if not isinstance(node, dict):
            raise CLIError(f"{key!r}: {parts[i - 1]!r} is a list, not an object")
        if last:
            node[part] = value
            return
        default: Any = [] if parts[i + 1] == "" else {}
        child = node.setdefault(part, default)
        if type(child) is not type(default):
            raise CLIError(f"{key!r}: {part!r} was given as another kind of value")
        node = child


def parse_fields(typed: tuple[str, ...], raw: tuple[str, ...]) -> dict[str, Any]:
    """The parameters of ``-F`` (typed) and ``-f`` (strings), in the order given per kind."""
    params: dict[str, Any] = {}
    for values, convert in ((typed, _typed), (raw, str)):
        for item in values:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise CLIError(f"{item!r} is not key=value")
            _put(params, key, convert(value))
    return params


def _path(path: str) -> str:
    """``/v2/me`` as given; ``me`` or ``v2/me`` read as ``/v2/me``."""
    if path.startswith(("http://", "https://", "/")):
        return path
    return "/" + (path if path.startswith("v2/") else "v2/" + path)


def _regex(template: str) -> re.Pattern[str]:
    pieces = re.split(r"\{[^{}]*\}", template)
    return re.compile("[^/]+".join(re.escape(p) for p in pieces))


def find_operation(method: str, path: str) -> Operation | None:
    """The operation of the table that METHOD PATH calls (a literal segment beats a
    placeholder: ``/v2/bookings/by-seat/…`` before ``/v2/bookings/{uid}/…``)."""
    found = [op for op in OPERATIONS if op.method == method and _regex(op.path).fullmatch(path)]
    return min(found, key=lambda op: op.path.count("{"), default=None)


def _read_input(stream: IO[bytes]) -> Any:
    data = stream.read()
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CLIError(f"--input is not JSON: {exc}") from None


def _print_json(value: Any) -> None:
    out = sys.stdout.buffer
    out.write(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n")
    out.flush()


async def _call(
    settings: Settings,
    method: str,
    path: str,
    params: dict[str, Any],
    body: Any,
    version: str | None,
    include: bool,
) -> int:
    method = method.upper()
    path = _path(path)
    query: dict[str, Any] | None = None
    if params and method in _QUERY_METHODS:
        for key, value in params.items():
            if isinstance(value, dict):
                raise CLIError(f"{key}: a query parameter is a value or a list, not an object")
        query = params
    elif params:
        if body is not None:
            raise CLIError("pass the body with --input or with -f/-F fields, not both")
        body = params
    async with settings.client() as cal:
        auth: Any = None
        target = path.split("?", 1)[0]
        op = find_operation(method, target.removeprefix(cal.base_url))
        if op is not None:
            if version is None:
                version = cal.session.api_version(op)
            if op.auth == frozenset({AuthMode.PLATFORM}):
                auth = "platform"
            if settings.verbose:
                settings.say(f"calcom: {op.name} (cal-api-version {version or 'none'})")
        try:
            response = await cal.with_raw_response.request(
                cast("HTTPMethod", method),  # checked by cal.request
                path,
                query=query,
                json=body,
                api_version=version,
                auth=auth,
                unwrap=False,
            )
        except APIStatusError as exc:
            if exc.body is not None:  # the error's body on stdout, as gh api does
                _print_json(exc.body)
            raise
        if include:
            out = sys.stdout
            out.write(f"HTTP {response.status_code}\n")
            for name, value in response.headers.items():
                out.write(f"{name}: {value}\n")
            out.write("\n")
            out.flush()
        if response.status_code != 204 and response.content:
            _print_json(response.data)
    return 0


@click.command("api")
@click.argument("method")
@click.argument("path")
@click.option(
    "-F",
    "--field",
    "fields",
    multiple=True,
    metavar="KEY=VALUE",
    help="A typed parameter: true/false/null and numbers as JSON, @FILE read from a file.",
)
@click.option(
    "-f",
    "--raw-field",
    "raw_fields",
    multiple=True,
    metavar="KEY=VALUE",
    help="A string parameter.",
)
@click.option(
    "--input",
    "input_file",
    type=click.File("rb"),
    metavar="FILE",
    help="The JSON body from FILE ('-': stdin).",
)
@click.option(
    "--version",
    "api_version",
    metavar="YYYY-MM-DD",
    help="The cal-api-version to send (default: the operation's, from the client's table).",
)
@click.option("-i", "--include", is_flag=True, help="Print the status and headers first.")
@click.pass_context
def api(
    ctx: click.Context,
    method: str,
    path: str,
    fields: tuple[str, ...],
    raw_fields: tuple[str, ...],
    input_file: IO[bytes] | None,
    api_version: str | None,
    include: bool,
) -> None:
    """Call METHOD PATH (like gh api) and print the JSON answer.

    \b
      calcom api GET /v2/me
      calcom api GET bookings -F take=5 -f 'status[]=upcoming'
      calcom api POST /v2/event-types -f title=Intro -f slug=intro -F lengthInMinutes=30
      calcom api PATCH /v2/bookings/UID/location --version 2024-08-13 --input body.json

    -f/-F go into the query for GET and DELETE, into the JSON body otherwise.
    """
    settings = get_settings(ctx)

    async def main() -> int:
        params = parse_fields(fields, raw_fields)
        body = _read_input(input_file) if input_file is not None else None
        return await _call(settings, method, path, params, body, api_version, include)

    run(settings, main)
