"""Small request helpers shared by the apps' views."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from ipware import get_client_ip


def safe_next(request, default: str) -> str:
    """The `next` URL posted (or passed) with the request if it points into this
    site, else `default`: never an open redirect."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    # Only a path of this site: a bare word would be taken for a URL name by redirect().
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def client_ip(request: HttpRequest) -> str:
    """The visitor's address, for the web-to-lead rate limit and the sign-in
    throttle (django-axes calls this too).

    With TRUSTED_PROXY_COUNT = 0 (the default: the app faces the visitors) it is
    REMOTE_ADDR and any X-Forwarded-For header, which a visitor can write, is
    ignored. Behind N reverse proxies that each append the address they were
    reached from to X-Forwarded-For, it is the N-th entry from the right: the
    one the outermost proxy wrote. Entries further left came from the visitor
    and are not trusted. Read by django-ipware.
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        # ipware counts the proxies listed after the client, not the last one
        # (the peer in REMOTE_ADDR); strict=False lets visitors prepend entries.
        ip, _ = get_client_ip(
            request,
            proxy_count=count - 1,
            request_header_order=["HTTP_X_FORWARDED_FOR"],
            strict=False,
        )
    else:
        ip, _ = get_client_ip(request, request_header_order=["REMOTE_ADDR"])
    # No usable header (a request that reached the app without the proxies):
    # the peer's own address, never a value the visitor chose.
    return ip or request.META.get("REMOTE_ADDR") or "0.0.0.0"
