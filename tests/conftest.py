"""What every test needs: the scan for leaked secrets (``tests/support/leaks.py``, autouse).
Everything else is in the conftest of the folder whose tests use it (tests/README.md)."""

pytest_plugins = ["tests.support.leaks"]
