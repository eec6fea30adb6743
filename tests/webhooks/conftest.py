"""Webhook signatures, events, the Router and the fake's deliveries: virtual time (``clock``) for
the replay window. The tests that share replay memory through a real Redis are in stores/."""

from tests.support.clock import clock as clock
