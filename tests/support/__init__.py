"""Helpers shared by test folders, imported absolutely (``from tests.support.clock import
FakeClock``). A helper that one folder uses lives in that folder instead (``_*.py`` beside its
tests); fixtures are listed in the conftest of each folder that uses them (tests/README.md)."""
