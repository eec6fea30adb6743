"""MkDocs hooks of the documentation site (``mkdocs.yml``: ``hooks:``), run at build time.

- **Pages from the repository**: the README (the home page), the changelog, CONTRIBUTING.md,
  ``openapi/README.md`` and the examples' READMEs are published as they are in the repository,
  not copied into ``docs/``. A relative link between repository files (``docs/sync.md`` in the
  README, ``../examples/distributed_sync/`` in a guide) is pointed at the page that file became;
  any other link is left for MkDocs to check (``--strict`` fails on one that leads nowhere).
- **The operation reference** (``reference/operations.md``): one row per operation of the
  generated operation table (``calcom_async._generated.operations``): the Python method, HTTP
  method and path, ``cal-api-version``, auth, paging. Each method is looked up on a real
  ``CalCom``, so a row cannot name a method that does not exist.
- **Docstrings written for Sphinx**: a role (``:class:`X```) shows as the code it names, and
  the ``::`` before a literal block is dropped.
- **The API reference covers the public surface**: every name of ``calcom_async.__all__`` has a
  ``::: calcom_async.NAME`` entry on a page under ``reference/`` (the ``API_VERSION_…``
  constants are listed by the operation reference); a name without one fails the build.
"""

from __future__ import annotations

import importlib
import importlib.util
import posixpath
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parent.parent

#: repository file -> the page it is published as (paths relative to the repository / docs/)
REPO_PAGES: dict[str, str] = {
    "README.md": "index.md",
    "CHANGELOG.md": "changelog.md",
    "CONTRIBUTING.md": "contributing.md",
    "openapi/README.md": "regenerating.md",
    "examples/distributed_sync/README.md": "examples/distributed-sync.md",
}
OPERATIONS_PAGE = "reference/operations.md"
#: public names documented in prose rather than by a ``:::`` entry
DOCUMENTED_ELSEWHERE = frozenset({"__version__"})

_LINK = re.compile(r"(?<=\]\()(?P<target>[^)\s#]*)(?P<anchor>#[^)\s]*)?(?=[)\s])")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_DIRECTIVE = re.compile(r"^:::\s+(?P<name>[\w.]+)\s*$", re.MULTILINE)
#: a Sphinx role of a docstring as Markdown renders it: :class:<code>~calcom_async.CalCom</code>
_ROLE = re.compile(
    r":(?:class|mod|func|meth|attr|exc|data|obj|py:\w+):<code>(?P<tilde>~?)(?P<name>[^<]*)</code>"
)


# -- links between repository files --------------------------------------------------------------


def repo_path_of(src_uri: str) -> str:
    """The repository file a page comes from (a published repository file, or one in docs/)."""
    for repo, page in REPO_PAGES.items():
        if page == src_uri:
            return repo
    return f"docs/{src_uri}"


def rewrite_links(markdown: str, src_uri: str, repo_pages: Mapping[str, str] = REPO_PAGES) -> str:
    """Point the relative links of the page ``src_uri`` that lead to a published repository file
    (or a folder with a published README) at its page; links in code blocks stay as written."""
    here = repo_path_of(src_uri)
    page_dir = posixpath.dirname(src_uri)

    def target_page(match: re.Match[str]) -> str:
        target = match.group("target")
        anchor = match.group("anchor") or ""
        if not target or _SCHEME.match(target) or target.startswith("/"):
            return match.group(0)
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(here), target))
        page = repo_pages.get(resolved) or repo_pages.get(f"{resolved}/README.md")
        if page is None and resolved.startswith("docs/"):
            page = resolved.removeprefix("docs/")
        if page is None:
            return match.group(0)  # MkDocs checks it (and fails the strict build)
        return posixpath.relpath(page, page_dir or ".") + anchor

    out, in_fence = [], False
    for line in markdown.splitlines(keepends=True):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        out.append(line if in_fence else _LINK.sub(target_page, line))
    return "".join(out)


# -- the operation reference ---------------------------------------------------------------------

_AUTH = {"api_key": "API key", "access_token": "access token", "platform": "platform client"}
_PAGES = {
    "take_skip": "take/skip, with totals",
    "bare_list": "take/skip",
    "limit": "limit/offset",
    "cursor": "cursor",
}


def _resolve(cal: Any, dotted: str) -> Any:
    target = cal
    for part in dotted.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise PluginError(f"operation reference: cal.{dotted} does not exist on CalCom")
    return target


def _call(op: Any) -> str:
    args = [p.python_name for p in op.params if p.location == "path"]
    if op.body is not None:
        args.append("body" if op.body_required else "body=…")
    if any(p.location == "query" for p in op.params):
        args.append("*, …")
    return f"cal.{op.name}({', '.join(args)})"


def _version(op: Any) -> str:
    if op.api_version is None:
        return "—"
    others = sorted(set(op.versions) - {op.api_version})
    return f"`{op.api_version}`" + (
        f" (also {', '.join(f'`{v}`' for v in others)})" if others else ""
    )


def _auth(op: Any) -> str:
    if not op.auth:
        return "none"
    modes = ", ".join(_AUTH[m.value] for m in sorted(op.auth, key=lambda m: m.value))
    return modes if op.auth_required else f"{modes} (optional)"


def _pages(op: Any) -> str:
    if op.pagination is None:
        return "—"
    size = f", ≤ {op.max_page_size} a page" if op.max_page_size else ""
    return f"yes: {_PAGES[op.pagination.value]}{size}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def operations_markdown() -> str:
    """The page: every operation of the table, grouped by top-level namespace."""
    from calcom_async import CalCom
    from calcom_async._generated import versions
    from calcom_async._generated.operations import OPERATIONS, VARIANTS

    cal = CalCom(api_key="cal_docs_build_placeholder")  # never opened: only looked at
    groups: dict[str, list[Any]] = defaultdict(list)
    for op in OPERATIONS:
        if not callable(_resolve(cal, op.name)):
            raise PluginError(f"operation reference: cal.{op.name} is not a method")
        groups[op.name.split(".", 1)[0]].append(op)
    paged = sum(op.pagination is not None for op in OPERATIONS)
    auth = Counter(m.value for op in OPERATIONS for m in op.auth)
    lines = [
        # the widest page: the tables get the width of the navigation column
        "---",
        "hide:",
        "  - navigation",
        "---",
        "",
        "# Operations",
        "",
        f"Every operation of the Cal.com API v2 document the client is generated from: "
        f"**{len(OPERATIONS)} operations**, {paged} of them paged (an `async for` walks every "
        "page), generated at build time from the operation table "
        "(`calcom_async._generated.operations`). Accepted auth: "
        + ", ".join(f"{_AUTH[k]} {n}" for k, n in sorted(auth.items()))
        + ". The client sends the `cal-api-version` shown (pin another with "
        "`CalCom(api_versions=…)` or `RequestOptions(api_version=…)`; see the "
        "[client guide](../client.md)). The same methods, without `await`, on `CalComSync` "
        "(the [blocking facade](blocking.md)).",
        "",
    ]
    for group in sorted(groups):
        lines += [
            f"## cal.{group}",
            "",
            "| Python | HTTP | `cal-api-version` | auth | pages | summary |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for op in groups[group]:
            python = f"`{_call(op)}`" + (" *(deprecated)*" if op.deprecated else "")
            lines.append(
                f"| {_cell(python)} | `{op.method} {op.path}` | {_version(op)} | {_auth(op)} "
                f"| {_pages(op)} | {_cell(op.summary)} |"
            )
        lines.append("")
    lines += [
        "## Live versions that answer differently",
        "",
        "The live API knows versions the document lacks; where one changes the parameters or "
        "the answer, the client has a row of its own for it, used when that version is sent:",
        "",
        "| Python | HTTP | `cal-api-version` | pages |",
        "| --- | --- | --- | --- |",
    ]
    for (_op_id, version), op in sorted(VARIANTS.items()):
        lines.append(f"| `{_call(op)}` | `{op.method} {op.path}` | `{version}` | {_pages(op)} |")
    lines += [
        "",
        "## Version constants",
        "",
        "Exported by `calcom_async` (`from calcom_async import API_VERSION_2024_08_13`):",
        "",
        "| name | value |",
        "| --- | --- |",
    ]
    for name in versions.__all__:
        value = getattr(versions, name)
        shown = ", ".join(sorted(value)) if isinstance(value, frozenset) else value
        lines.append(f"| `{name}` | `{shown}` |")
    return "\n".join(lines) + "\n"


# -- the public surface is documented ------------------------------------------------------------


def undocumented(package: Any, pages: Iterable[str], elsewhere: Iterable[str]) -> list[str]:
    """The names of ``package.__all__`` that no ``::: …`` entry of ``pages`` (their Markdown)
    documents: an entry names the object itself (``::: calcom_async.CalCom``) or a module of
    the package that exports it (``::: calcom_async.oauth`` documents ``OAuthApp``)."""
    entries = {m.group("name") for text in pages for m in _DIRECTIVE.finditer(text)}
    covered = set()
    for entry in entries:
        head, _, rest = entry.partition(".")
        if head != package.__name__:
            continue
        if "." not in rest:
            covered.add(rest)
        module = importlib.import_module(entry) if importlib.util.find_spec(entry) else None
        if module is not None:
            exported = getattr(module, "__all__", ())
            covered |= {
                name
                for name in package.__all__
                if name in exported and getattr(module, name) is getattr(package, name)
            }
    return sorted(set(package.__all__) - covered - set(elsewhere))


# -- the hooks -----------------------------------------------------------------------------------


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for repo, page in REPO_PAGES.items():
        if files.get_file_from_path(page) is not None:
            raise PluginError(f"docs/{page} exists: it is published from {repo}")
        source = ROOT / repo
        files.append(File.generated(config, page, abs_src_path=str(source)))
    files.append(File.generated(config, OPERATIONS_PAGE, content=operations_markdown()))

    import calcom_async
    from calcom_async._generated import versions

    references = [
        Path(f.abs_src_path).read_text(encoding="utf-8")
        for f in files
        if f.src_uri.startswith("reference/") and f.src_uri.endswith(".md") and f.abs_src_path
    ]
    missing = undocumented(calcom_async, references, DOCUMENTED_ELSEWHERE | set(versions.__all__))
    if missing:
        raise PluginError(
            "these names of calcom_async.__all__ have no `::: calcom_async.NAME` entry in "
            f"docs/reference/: {', '.join(missing)}"
        )
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    return rewrite_links(markdown, page.file.src_uri)


def tidy_docstrings(html: str) -> str:
    """The docstrings are written for Sphinx: Markdown leaves a role (``:class:`~x.Y```) as
    text before the code it names, and the ``::`` that opens a literal block as text. Keep the
    code (``~``: its last component, as Sphinx shows it); drop a lone ``::``, and make a
    trailing ``text::`` read ``text:`` (the indented block below is already code)."""

    def code(match: re.Match[str]) -> str:
        name = match.group("name")
        return f"<code>{name.rsplit('.', 1)[-1] if match.group('tilde') else name}</code>"

    html = _ROLE.sub(code, html)
    return html.replace("<p>::</p>", "").replace("::</p>", ":</p>")


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    return tidy_docstrings(html) if page.file.src_uri.startswith("reference/") else html
