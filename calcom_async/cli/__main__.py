"""``python -m calcom_async.cli``: the ``calcom`` command."""

from . import main

main()
