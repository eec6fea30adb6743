"""OAuth apps, redirects and the fake's OAuth server: virtual time (``clock``) for token lifetimes;
the local token endpoint is ``_oauth_server.py``."""

from tests.support.clock import clock as clock
