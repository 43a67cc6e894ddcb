"""CSV export of a lead list view, with the list's own filters, search and sort.

The rows are read with the list's keyset pagination (leads.listing.lead_page), a
chunk at a time in the list's order, and written out as they are read: memory
stays flat whatever the number of leads, and each chunk is one range scan of
the index the list itself uses.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from crm.models import Currency

from . import selectors
from .filters import LeadFilter
from .listing import lead_page
from .listing.cursor import Cursor
from .listing.sorts import SORTS, VIEW_DEFAULT_SORTS, clean_sort
from .models import Lead

CHUNK_SIZE = 2_000
# Excel reads a CSV file as UTF-8 only when it starts with a byte order mark.
BOM = "\ufeff"
# A cell starting with one of these is read as a formula by spreadsheets
# (CSV injection, OWASP): such cells are prefixed with an apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _label(field: str):
    """The label of a choice field's value. A dict lookup: get_FOO_display()
    rebuilds a hashable copy of the choices on each call, half the export time."""
    labels = {value: str(label) for value, label in Lead._meta.get_field(field).flatchoices}
    return lambda lead: labels.get(getattr(lead, field), getattr(lead, field))


COLUMNS = [
    ("Topic", lambda lead: lead.topic),
    ("First name", lambda lead: lead.first_name),
    ("Last name", lambda lead: lead.last_name),
    ("Company", lambda lead: lead.company_name),
    ("Job title", lambda lead: lead.job_title),
    ("Business phone", lambda lead: lead.business_phone),
    ("Mobile phone", lambda lead: lead.mobile_phone),
    ("Email", lambda lead: lead.email),
    ("Website", lambda lead: lead.website),
    ("Status", _label("state")),
    ("Status reason", _label("status_reason")),
    ("Lead source", _label("lead_source")),
    ("Rating", _label("rating")),
    ("Industry", _label("industry")),
    ("Budget amount", lambda lead: "" if lead.budget_amount is None else lead.budget_amount),
    # Filled from a code-by-pk map (see csv_lines): a handful of currencies.
    ("Currency", None),
    ("Purchase timeframe", _label("purchase_timeframe")),
    ("Purchase process", _label("purchase_process")),
    ("Owner", lambda lead: lead.owner.get_full_name() or lead.owner.get_username()),
    ("Created", lambda lead: lead.created_at.isoformat()),
    ("Description", lambda lead: lead.description),
]
HEADER = [name for name, _ in COLUMNS]


class Echo:
    """A file-like object that hands back what is written, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def safe_cell(value) -> str:
    """The value as text a spreadsheet shows as text, never runs as a formula."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def filtered_leads(*, user, params) -> tuple[QuerySet[Lead], LeadFilter, str, str]:
    """The leads of the list view that `params` (a list URL's query) shows,
    as lead_list reads them: (queryset, filter, view, the sort asked for)."""
    view = params.get("view", selectors.DEFAULT_VIEW)
    if view not in selectors.VIEWS:
        view = selectors.DEFAULT_VIEW
    base = selectors.lead_list(user=user, view=view)
    lead_filter = LeadFilter(params or None, queryset=base)
    leads = lead_filter.qs if lead_filter.is_bound else base
    return leads, lead_filter, view, params.get("sort") or VIEW_DEFAULT_SORTS.get(view, "")


def list_page(
    *,
    user,
    params,
    after: str | None = None,
    per_page: int = CHUNK_SIZE,
    strict: bool = False,
):
    """The page after the cursor `after` of the list `params` shows (view,
    filters, search, sort), as the list page reads it (keyset): the export's
    chunks and the API's pages. The page drops a view, sort, filter or cursor
    it cannot read (a link from an old page still opens); `strict` (an API
    client, which would take every lead for the few it asked for) refuses them
    instead: ValidationError by parameter, nothing read."""
    leads, lead_filter, view, sort = filtered_leads(user=user, params=params)
    valid = lead_filter.is_valid()
    if strict:
        _refuse_unread(params, lead_filter, sort, after)
    return lead_page(
        leads,
        sort=sort,
        after=after,
        per_page=per_page,
        view=view,
        user=user,
        narrowed_by=lead_filter.narrowing(),
        search=(lead_filter.form.cleaned_data.get("q") or "") if valid else "",
    )


def _refuse_unread(params, lead_filter: LeadFilter, sort: str, after: str | None) -> None:
    errors = {name: list(messages) for name, messages in lead_filter.errors.items()}
    if params.get("view", selectors.DEFAULT_VIEW) not in selectors.VIEWS:
        errors["view"] = [f"One of {', '.join(selectors.VIEWS)}."]
    if sort and clean_sort(sort) != sort:
        errors["sort"] = [f"One of {', '.join(SORTS)}, with - to reverse."]
    if after and not errors and Cursor.decode(after, clean_sort(sort)) is None:
        errors["cursor"] = ["Not a cursor this list gave with this sort."]
    if errors:
        raise ValidationError(errors)


def lead_rows(*, user, params, chunk_size: int | None = None) -> Iterator[Lead]:
    """Every lead of the list `params` shows, in the list's order, read a page of
    `chunk_size` at a time after the last row read (keyset)."""
    after = None
    while True:
        page = list_page(user=user, params=params, after=after, per_page=chunk_size or CHUNK_SIZE)
        yield from page.object_list
        if not page.has_next:
            return
        after = page.next_cursor


def csv_lines(leads: Iterator[Lead]) -> Iterator[str]:
    """The CSV text of `leads`, a line at a time: BOM and header first."""
    currencies = dict(Currency.objects.values_list("pk", "code"))
    getters = [get or (lambda lead: currencies.get(lead.currency_id, "")) for _, get in COLUMNS]
    writer = csv.writer(Echo())
    yield BOM + writer.writerow(HEADER)
    for lead in leads:
        yield writer.writerow([safe_cell(get(lead)) for get in getters])
