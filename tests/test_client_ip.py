"""crm.http.client_ip: the visitor's address, with or without trusted proxies."""

import pytest
from django.test import RequestFactory

from crm.http import client_ip

PROXY = "10.0.0.2"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "remote", "expected"),
    [
        # No proxy trusted: REMOTE_ADDR, whatever the header says.
        (0, None, "203.0.113.9", "203.0.113.9"),
        (0, "198.51.100.1", "203.0.113.9", "203.0.113.9"),
        (0, None, "2001:db8::1", "2001:db8::1"),
        # One proxy (nginx appends the address it was reached from).
        (1, "203.0.113.5", PROXY, "203.0.113.5"),
        (1, "198.51.100.1, 203.0.113.5", PROXY, "203.0.113.5"),  # a prepended lie
        (1, "2001:db8::5", PROXY, "2001:db8::5"),
        # Two proxies (a load balancer, then nginx): the load balancer's entry.
        (2, "198.51.100.1, 203.0.113.5, 10.0.0.3", PROXY, "203.0.113.5"),
        # A request that did not come through the proxies, or a garbled header:
        # the peer's own address, never the visitor's choice.
        (1, None, "203.0.113.9", "203.0.113.9"),
        (2, "203.0.113.5", PROXY, PROXY),
        (1, "not-an-address", PROXY, PROXY),
    ],
)
def test_client_ip(settings, proxies, forwarded, remote, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR=remote, **headers)
    assert client_ip(request) == expected
