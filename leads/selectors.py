"""Reads of leads for the list views and pages."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Lead

VIEWS = {
    "my": "My Open Leads",
    "open": "Open Leads",
    "closed": "Closed Leads",
    "all": "All Leads",
}
DEFAULT_VIEW = "my"

# Columns the list may be sorted by (the GET `sort` value, optionally prefixed with '-').
SORTS = {
    "name": ("last_name", "first_name"),
    "topic": ("topic",),
    "company": ("company_name",),
    "status": ("status_reason",),
    "source": ("lead_source",),
    "rating": ("rating",),
    "owner": ("owner__last_name", "owner__first_name"),
    "created": ("created_at",),
}
DEFAULT_SORT = "-created"


def lead_list(*, user, view: str = DEFAULT_VIEW) -> QuerySet[Lead]:
    """The leads of one system view, with what the list shows joined in."""
    qs = Lead.objects.select_related("owner")
    if view == "my":
        qs = qs.filter(owner=user, state=Lead.State.OPEN)
    elif view == "open":
        qs = qs.filter(state=Lead.State.OPEN)
    elif view == "closed":
        qs = qs.filter(state__in=[Lead.State.QUALIFIED, Lead.State.DISQUALIFIED])
    return qs


def order_leads(qs: QuerySet[Lead], sort: str | None) -> tuple[QuerySet[Lead], str]:
    """Apply an allowed sort (unknown ones fall back to newest first); pk breaks ties."""
    sort = sort or DEFAULT_SORT
    key = sort.lstrip("-")
    if key not in SORTS:
        sort, key = DEFAULT_SORT, DEFAULT_SORT.lstrip("-")
    prefix = "-" if sort.startswith("-") else ""
    fields = [f"{prefix}{f}" for f in SORTS[key]] + [f"{prefix}pk"]
    return qs.order_by(*fields), sort


def lead_for_page(pk: int) -> Lead:
    return Lead.objects.select_related(
        "owner",
        "currency",
        "existing_account",
        "existing_contact",
        "qualified_account",
        "qualified_contact",
        "qualified_opportunity",
        "qualified_by",
        "disqualified_by",
        "stage",
    ).get(pk=pk)
