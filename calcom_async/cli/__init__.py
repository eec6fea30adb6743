"""``calcom``: the command of calcom-async, for jobs run from a shell (docs/cli.md).

``pip install "calcom-async[cli]"`` installs it (Click and Rich). ``calcom bookings export``,
``calcom sync sqlite:///bookings.db``, ``calcom api GET /v2/me``, ``calcom webhooks listen``,
``calcom fake``; ``calcom --help`` lists the options, which are ``CalCom``'s.
"""

from __future__ import annotations

import sys

__all__ = ["main"]

_EXTRA = ("click", "rich")


def main(argv: list[str] | None = None) -> None:
    """The ``calcom`` console script."""
    try:
        from ._app import cli
    except ImportError as exc:
        if exc.name not in _EXTRA:
            raise
        sys.stderr.write(
            f"calcom: the command needs the cli extra ({exc.name} is not installed): "
            "pip install 'calcom-async[cli]'\n"
        )
        raise SystemExit(2) from None
    cli.main(args=argv, prog_name="calcom")
