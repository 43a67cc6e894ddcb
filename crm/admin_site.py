"""Leadline's admin site: Django's, with list pages that never answer 500.

A changelist turns its query string into filters, a search, a sort and a date
drill-down. Django refuses the malformed ones it foresees (a non-numeric id);
others reach the database or the calendar and fail there: a NUL character
(PostgreSQL cannot store one), a year past datetime's range, a number past a
64-bit column. Every ModelAdmin registered here, ours and other apps' (users,
groups, sign-in attempts), refuses those with a message and the plain list.
"""

from __future__ import annotations

import contextlib
from functools import wraps

from django.contrib import admin, messages
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import FieldError, ValidationError
from django.db import DataError, connection, transaction
from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseRedirect

MALFORMED_QUERY = (
    "This list could not be filtered, searched or sorted as the address asked "
    "({reason}); here it is without those parameters."
)
NUL_QUERY = "the address contains a NUL character"


class MalformedListQuery(Exception):
    """A changelist's query string cannot be applied."""


def _has_nul(request: HttpRequest) -> bool:
    return any(
        "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
    )


class SafeChangeListMixin:
    """Turns a query string the changelist cannot apply into the plain list and
    a message, on any database, instead of a 500 (or Django's "database
    installation" page for the lookups it refuses itself)."""

    def get_changelist_instance(self, request: HttpRequest):
        if _has_nul(request):
            raise MalformedListQuery(NUL_QUERY)
        # The count and the page run here: a failure is caught, and on
        # PostgreSQL rolled back to a savepoint when a transaction is open.
        savepoint = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
        try:
            with savepoint:
                return super().get_changelist_instance(request)
        except (
            IncorrectLookupParameters,
            ValueError,
            OverflowError,
            DataError,
            ValidationError,
            FieldError,
        ) as exc:
            raise MalformedListQuery(_reason(exc)) from exc

    def changelist_view(self, request: HttpRequest, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except MalformedListQuery as exc:
            if not request.GET:
                raise  # the plain list itself fails: a real error, not the address
            messages.warning(request, MALFORMED_QUERY.format(reason=exc))
            return HttpResponseRedirect(request.path)


def _reason(exc: Exception) -> str:
    if isinstance(exc, OverflowError | DataError) or "out of range" in str(exc):
        return "a number or date in it is out of range"
    return "a value in it is not valid for its field"


def _is_safe_changelist(view) -> bool:
    return getattr(view, "__name__", "") == "changelist_view" and isinstance(
        getattr(view, "__self__", None), SafeChangeListMixin
    )


class LeadlineAdminSite(admin.AdminSite):
    site_header = "Leadline administration"
    site_title = "Leadline admin"
    index_title = "Configuration and data"

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, SafeChangeListMixin):
            admin_class = type(
                admin_class.__name__,
                (SafeChangeListMixin, admin_class),
                {"__module__": admin_class.__module__},
            )
        return super().register(model_or_iterable, admin_class, **options)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def guarded(request: HttpRequest, *args, **kwargs):
            # Changelists say so themselves (SafeChangeListMixin); every other
            # admin page (change forms, history, autocomplete) refuses here.
            if _has_nul(request) and not _is_safe_changelist(view):
                return HttpResponseBadRequest(
                    f"Bad request: {NUL_QUERY}, which no admin page can use.",
                    content_type="text/plain; charset=utf-8",
                )
            return inner(request, *args, **kwargs)

        return guarded


class LeadlineAdminConfig(AdminConfig):
    default_site = "crm.admin_site.LeadlineAdminSite"
