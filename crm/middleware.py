"""A database that is busy (SQLite's write lock held past the busy timeout, a
PostgreSQL lock timeout) or unreachable answers 503 "try again", never 500.

Whatever the request was doing ran in a transaction that rolled back, so
nothing changed; the page says so and `Retry-After` tells clients when to
come back. The middleware must come first in MIDDLEWARE: it sees the response
of every view and of every other middleware (the session is saved, and the
sign-in throttle writes, outside the view).
"""

from __future__ import annotations

import logging
import sqlite3
import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 10
BUSY_MESSAGE = "The database is busy, so nothing was changed. Try again in a few seconds."
# What SQLite says when the database, not the query, is the problem; its other
# OperationalErrors ("no such table") are programming errors and stay 500s.
_SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o error", "disk is full")
_FLAG = "_leadline_database_unavailable"


def is_database_unavailable(exc: BaseException | None) -> bool:
    """Whether `exc` says the database could not serve the request just now."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if isinstance(cause, sqlite3.OperationalError):
        return any(text in str(cause).lower() for text in _SQLITE_UNAVAILABLE)
    # PostgreSQL: connection failures, lock and statement timeouts, shutdowns,
    # serialization failures. Mistakes in a query are ProgrammingErrors there.
    return True


def database_busy_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON for clients that ask for it, else a page that
    needs no database (no user, no messages, no session)."""
    wants_json = request.GET.get("format") == "json" or "application/json" in request.headers.get(
        "Accept", ""
    )
    if wants_json:
        response = JsonResponse({"error": BUSY_MESSAGE}, status=503)
    else:
        body = render_to_string(
            "503.html",
            {
                "message": BUSY_MESSAGE,
                "retry_after": RETRY_AFTER_SECONDS,
                # A GET is simply asked again; after a POST, back to the page it came from.
                "again": request.get_full_path() if request.method == "GET" else _back(request),
                "resent": request.method != "GET",
            },
        )
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _back(request: HttpRequest) -> str:
    referer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        return referer
    return "/"


@receiver(got_request_exception, dispatch_uid="leadline-database-unavailable")
def _note_database_unavailable(sender, request=None, **kwargs) -> None:
    # Sent while Django turns an exception outside a view into a 500 (or the
    # debug page): remember on the request that the database was the cause.
    if request is not None and is_database_unavailable(sys.exc_info()[1]):
        setattr(request, _FLAG, True)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _FLAG, False):
            logger.warning("Database unavailable during %s %s", request.method, request.path)
            return database_busy_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            logger.warning(
                "Database unavailable during %s %s: %s", request.method, request.path, exception
            )
            return database_busy_response(request)
        return None
