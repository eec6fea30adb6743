"""The stores, and every test that runs a real redis-server (``redis_server``: one of the test's
own). Without redis-server this folder skips; with ``CI=true`` it fails (support/redis_server.py).
"""

from tests.support.redis_server import redis_server as redis_server
