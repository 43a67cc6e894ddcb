"""Reads of opportunities for their list and page."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from activities.models import Note

from .models import Opportunity


def opportunity_list() -> QuerySet[Opportunity]:
    """Every opportunity, with what a row of the list shows: the account, contact
    and owner joined, the currencies and stages (a few rows) read after. Joining
    those two as well made PostgreSQL plan the six-table join for 4.5 ms, to
    read 50 rows in 0.6."""
    return Opportunity.objects.select_related("account", "contact", "owner").prefetch_related(
        "currency", "stage"
    )


def opportunity_for_page(pk: int) -> Opportunity:
    """The opportunity with what its page shows (404 when there is none)."""
    return get_object_or_404(
        Opportunity.objects.select_related(
            "account",
            "contact",
            "contact__account",
            "currency",
            "stage",
            "owner",
            "closed_by",
            "originating_lead",
        ),
        pk=pk,
    )


def originating_lead_notes(opportunity: Opportunity) -> QuerySet[Note] | list[Note]:
    """The notes of the lead the opportunity was qualified from, shown read-only on its page."""
    if opportunity.originating_lead_id is None:
        return []
    return Note.objects.filter(lead_id=opportunity.originating_lead_id).select_related("author")
