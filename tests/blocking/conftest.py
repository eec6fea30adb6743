"""The blocking facade: the scripted fake API (``api``); ``CalComSync`` runs its own loop."""

from tests.support.fake_api import api as api
