"""CHANGELOG.md's list of what the document changed is the generator's, not written by hand."""

from __future__ import annotations

import re

from codegen.diff import describe, diff
from tests.support.spec import DOCUMENT, RELEASES, ROOT

PREVIOUS_PIN = RELEASES.parent / "calcom-v2.openapi.json"


def test_the_changelog_block_is_the_generated_diff() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    block = re.search(r"<!-- codegen diff: begin -->\n(.*)<!-- codegen diff: end -->", text, re.S)
    assert block, "CHANGELOG.md has no generated block"
    expected = diff(describe(str(PREVIOUS_PIN)), describe(str(DOCUMENT)))
    assert block.group(1) == expected, "run python -m codegen diff and paste its output"


def test_the_diff_of_two_releases_names_what_moved() -> None:
    old = describe(str(RELEASES / "calcom-v2-2024-12-09.openapi.json"))
    new = describe(str(RELEASES / "calcom-v2-2025-05-27.openapi.json"))
    text = diff(old, new)
    for heading in ("Operations added", "Operations removed", "Methods renamed", "Models added"):
        assert f"#### {heading} (" in text
    added = {k for k in new.ops.keys() - old.ops.keys()}
    assert f"- `{sorted(added)[0][0]} {sorted(added)[0][1]}`" in text
    assert diff(new, new) == "No differences.\n"
