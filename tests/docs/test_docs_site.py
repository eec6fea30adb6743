"""The build-time parts of the documentation site (``scripts/docs_hooks.py``): links between
repository files published as pages, the generated operation reference, and the rule that every
public name has an API reference entry. ``make docs`` builds the site strictly and
``make docs-check`` opens it in Chromium (CI runs both); these tests pin the hook's logic."""

from __future__ import annotations

import re
from types import ModuleType

import pytest

import calcom_async
from calcom_async._generated.operations import OPERATIONS, VARIANTS
from tests.support.files import ROOT, load_module


@pytest.fixture(scope="module")
def hooks() -> ModuleType:
    return load_module("docs_hooks", ROOT / "scripts" / "docs_hooks.py")


@pytest.mark.parametrize(
    ("page", "link", "expected"),
    [
        # the README is the home page: its links into docs/ lose the prefix
        ("index.md", "[g](docs/client.md#pagination)", "[g](client.md#pagination)"),
        ("index.md", "[c](CHANGELOG.md)", "[c](changelog.md)"),
        ("index.md", "[e](examples/distributed_sync)", "[e](examples/distributed-sync.md)"),
        ("index.md", "[o](openapi/README.md)", "[o](regenerating.md)"),
        # a guide's link out of docs/ to a published README
        ("scaling.md", "[e](../examples/distributed_sync/)", "[e](examples/distributed-sync.md)"),
        # a published README's link back into docs/, from a page one folder down
        ("examples/distributed-sync.md", "[s](../../docs/scaling.md)", "[s](../scaling.md)"),
        ("reference/client.md", "[g](../client.md)", "[g](../client.md)"),
        # left for MkDocs to judge: not a published file (the strict build fails on it)
        ("scaling.md", "[x](../calcom_async/stores.py)", "[x](../calcom_async/stores.py)"),
        ("index.md", "[t](tests/test_sync.py)", "[t](tests/test_sync.py)"),
        # not relative links
        ("index.md", "[w](https://cal.com)", "[w](https://cal.com)"),
        ("client.md", "[a](#pagination)", "[a](#pagination)"),
    ],
)
def test_links_between_repository_files_point_at_their_pages(
    hooks: ModuleType, page: str, link: str, expected: str
) -> None:
    assert hooks.rewrite_links(f"see {link}.\n", page) == f"see {expected}.\n"


def test_links_in_code_blocks_stay_as_written(hooks: ModuleType) -> None:
    text = "```md\n[c](CHANGELOG.md)\n```\n[c](CHANGELOG.md)\n"
    assert (
        hooks.rewrite_links(text, "index.md")
        == "```md\n[c](CHANGELOG.md)\n```\n[c](changelog.md)\n"
    )


def test_every_published_repository_file_exists(hooks: ModuleType) -> None:
    for repo_file in hooks.REPO_PAGES:
        assert (ROOT / repo_file).is_file(), repo_file


@pytest.fixture(scope="module")
def operations_page(hooks: ModuleType) -> str:
    page: str = hooks.operations_markdown()
    return page


def test_the_operation_reference_has_one_row_per_operation(operations_page: str) -> None:
    rows = re.findall(r"^\| `(cal\.[\w.]+)\(", operations_page, re.MULTILINE)
    assert len(rows) == len(OPERATIONS) + len(VARIANTS)
    assert sorted(rows[: len(OPERATIONS)]) == sorted(f"cal.{op.name}" for op in OPERATIONS)
    assert f"**{len(OPERATIONS)} operations**" in operations_page


def test_a_row_says_method_path_version_auth_and_paging(operations_page: str) -> None:
    row, live = [r for r in operations_page.splitlines() if r.startswith("| `cal.bookings.list(")]
    assert "`2026-05-01` | yes: cursor" in live  # the live version's row of its own
    cells = [c.strip() for c in row.strip("|").split(" | ")]
    assert cells[:5] == [
        "`cal.bookings.list(*, …)`",
        "`GET /v2/bookings`",
        "`2024-08-13` (also `2026-05-01`)",
        "access token, API key",
        "yes: take/skip, with totals, ≤ 250 a page",
    ]
    (row,) = [r for r in operations_page.splitlines() if r.startswith("| `cal.bookings.cancel(")]
    assert "`POST /v2/bookings/{bookingUid}/cancel`" in row
    assert "`cal.bookings.cancel(booking_uid, body" in row


def test_a_method_the_client_lacks_fails_the_build(
    hooks: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mkdocs.exceptions import PluginError

    import calcom_async._generated.operations as table

    ghost = table.OPERATIONS[0].__class__(
        **{
            **{f: getattr(table.OPERATIONS[0], f) for f in ("operation_id", "method", "path")},
            "name": "bookings.teleport",
            "params": (),
            "body": None,
            "body_required": False,
            "response": None,
            "unwrap": False,
            "api_version": None,
            "auth": frozenset(),
            "auth_required": False,
            "pagination": None,
        }
    )
    monkeypatch.setattr(table, "OPERATIONS", (*table.OPERATIONS, ghost))
    with pytest.raises(PluginError, match=r"cal\.bookings\.teleport does not exist"):
        hooks.operations_markdown()


def test_every_public_name_has_a_reference_entry(hooks: ModuleType) -> None:
    from calcom_async._generated import versions

    pages = [p.read_text() for p in (ROOT / "docs" / "reference").glob("*.md")]
    elsewhere = hooks.DOCUMENTED_ELSEWHERE | set(versions.__all__)
    assert hooks.undocumented(calcom_async, pages, elsewhere) == []
    without_gather = [p.replace("::: calcom_async.gather\n", "") for p in pages]
    assert hooks.undocumented(calcom_async, without_gather, elsewhere) == ["gather"]
    # a module entry documents what that module exports
    without_oauth = [p.replace("::: calcom_async.oauth\n", "") for p in pages]
    assert hooks.undocumented(calcom_async, without_oauth, elsewhere) == [
        "OAuthApp",
        "OAuthError",
        "OAuthToken",
        "Scope",
    ]


def test_sphinx_markup_of_docstrings_reads_as_it_would_in_sphinx(hooks: ModuleType) -> None:
    html = "a :class:<code>~calcom_async.CalCom</code>, :meth:<code>x.Y.z</code> and <code>k</code>"
    assert hooks.tidy_docstrings(html) == (
        "a <code>CalCom</code>, <code>x.Y.z</code> and <code>k</code>"
    )
    html = "<p>Usage::</p><pre>x</pre><p>::</p><pre>y</pre><p>a::b</p>"
    assert hooks.tidy_docstrings(html) == "<p>Usage:</p><pre>x</pre><pre>y</pre><p>a::b</p>"
