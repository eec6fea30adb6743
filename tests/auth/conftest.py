"""Auth modes and tokens: the scripted fake API (``api``), clients on the fake clock
(``make_client``, which takes ``clock``)."""

from tests.support.clock import clock as clock
from tests.support.fake_api import api as api
from tests.support.fake_api import make_client as make_client
