"""The session pipeline (URLs, headers, retries, limits, errors, secrets): the scripted fake API
(``api``), clients on the fake clock (``make_client``, ``clock``). The synthetic operation rows
its tests call are in ``_synthetic.py``."""

from tests.support.clock import clock as clock
from tests.support.fake_api import api as api
from tests.support.fake_api import make_client as make_client
