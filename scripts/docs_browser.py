"""The built documentation site, checked as a person would: in headless Chromium.

    python scripts/docs_browser.py site .artifacts/docs      # make docs-check

Serves ``site/`` on loopback (the search needs HTTP: it loads its index in a web worker), opens
it in Debian's ``chromium`` driven by Playwright (``executable_path``; no browser download, as
the OAuth browser test), and checks:

- the home page renders (its title and heading, the navigation);
- the search box finds "sync": results appear, and the sync guide is among them;
- the operation reference has one row per operation of the table (and the live variants);
- the API reference of ``CalCom`` renders from its docstring;
- no page logs a JavaScript error or fails to load a resource.

Screenshots go to the output folder (ignored by git): ``home.png``, ``search-sync.png``,
``reference-operations.png``, ``reference-client.png``. Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import http.server
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000


class CheckFailed(Exception):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(site: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


async def run_checks(base: str, out: Path) -> list[str]:
    from playwright.async_api import async_playwright

    executable = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    check(
        executable is not None, f"Chromium is not installed ({CHROMIUM}: apt-get install chromium)"
    )
    done: list[str] = []
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
            page.on(
                "console",
                lambda msg: (
                    errors.append(f"{page.url}: console {msg.text}")
                    if msg.type == "error"
                    else None
                ),
            )
            page.on(
                "response",
                lambda r: errors.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None,
            )

            await page.goto(base)
            title = await page.title()
            check("calcom-async" in title, f"home page title {title!r}")
            heading = await page.inner_text("article h1")
            check("calcom-async" in heading, f"home page heading {heading!r}")
            nav = await page.locator("nav.md-nav--primary").inner_text()
            for entry in ("Guides", "Reference", "Operations"):
                check(entry in nav, f"the navigation lacks {entry!r}: {nav[:300]!r}")
            await page.screenshot(path=str(out / "home.png"))
            done.append(f"home page: {title!r}")

            # typed as a person types: the search reacts to key events, not to a filled value
            await page.click("input.md-search__input")
            await page.keyboard.type("sync", delay=30)
            results = page.locator(".md-search-result__item")
            await results.first.wait_for(state="visible")
            count = await results.count()
            check(count > 0, "the search for 'sync' returned no results")
            meta = await page.inner_text(".md-search-result__meta")
            links = await page.eval_on_selector_all(
                ".md-search-result__item a", "els => els.map(e => e.getAttribute('href'))"
            )
            check(
                any("sync/" in (href or "") for href in links),
                f"the sync guide is not among the results: {links[:10]}",
            )
            await page.screenshot(path=str(out / "search-sync.png"))
            done.append(f"search 'sync': {meta.strip()} ({count} shown)")

            from calcom_async._generated.operations import OPERATIONS, VARIANTS

            await page.goto(base + "reference/operations/")
            rows = await page.eval_on_selector_all(
                "article table tbody tr td:first-child code",
                "els => els.map(e => e.textContent)",
            )
            methods = [r for r in rows if r.startswith("cal.")]
            expected = len(OPERATIONS) + len(VARIANTS)
            check(
                len(methods) == expected,
                f"the operation reference shows {len(methods)} methods, not {expected}",
            )
            await page.screenshot(path=str(out / "reference-operations.png"))
            done.append(f"operation reference: {len(methods)} rows")

            await page.goto(base + "reference/client/")
            signature = await page.inner_text("[id='calcom_async.CalCom']")
            check("CalCom" in signature, f"the CalCom reference heading reads {signature!r}")
            doc = await page.locator(".doc-contents").first.inner_text()
            check("api_key" in doc, "the CalCom reference lacks its docstring")
            await page.screenshot(path=str(out / "reference-client.png"))
            done.append("API reference: CalCom rendered from its docstring")
        finally:
            await browser.close()
    check(not errors, "errors in the browser:\n" + "\n".join(errors))
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("site", type=Path, help="the built site (make docs)")
    parser.add_argument("out", type=Path, help="folder for the screenshots")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"docs-check: {args.site}/index.html not found: run make docs", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        with serve(args.site) as base:
            done = asyncio.run(run_checks(base, args.out))
    except CheckFailed as exc:
        print(f"docs-check: FAILED: {exc}", file=sys.stderr)
        return 1
    for line in done:
        print(f"  ok  {line}")
    print(f"docs-check: passed in {time.monotonic() - started:.1f} s; screenshots in {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
