"""Small request helpers shared by the apps' views."""

from __future__ import annotations

from django.utils.http import url_has_allowed_host_and_scheme


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
