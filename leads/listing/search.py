"""The lead list's text search, through a full-text index: FTS5 on SQLite (the
leads_lead_search table and its triggers, migration 0004), a GIN tsvector index on
PostgreSQL."""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from leads.models import Lead

# The document the PostgreSQL GIN index of migration 0004 is built on; the
# query must use the identical expression for the planner to use that index.
PG_SEARCH_DOCUMENT = (
    "to_tsvector('simple'::regconfig, "
    '"leads_lead"."first_name" || \' \' || "leads_lead"."last_name" || \' \' || '
    '"leads_lead"."company_name" || \' \' || '
    'translate("leads_lead"."email", \'@._+-\', \'     \') || \' \' || "leads_lead"."topic")'
)
MAX_SEARCH_TERMS = 5


def search_terms(text: str) -> list[str]:
    """The words of a search, as both full-text indexes split text into words:
    runs of letters and digits ('nancy.davolio@nw.example' is four words)."""
    return re.findall(r"[^\W_]+", text.lower())[:MAX_SEARCH_TERMS]


def search_leads(qs: QuerySet[Lead], text: str) -> QuerySet[Lead]:
    """Leads with every word of `text` (the last one may be incomplete) among
    the words of the name, company, email or topic, found through the
    full-text index (FTS5 on SQLite, a GIN tsvector index on PostgreSQL)
    instead of scanning the table."""
    condition = search_condition(text)
    return qs if condition is None else qs.filter(condition)


def search_condition(text: str) -> Q | None:
    """The condition of search_leads, or None when `text` has no word."""
    terms = search_terms(text)
    if not terms:
        return None
    # Words before the last are whole words; the last may be the start of one,
    # as the rep is still typing it. Whole words are also what keeps a search
    # fast: a prefix has to gather the matches of every word it starts.
    if connection.vendor == "postgresql":
        query = " & ".join([*terms[:-1], f"{terms[-1]}:*"])
        return Q(
            RawSQL(
                f"{PG_SEARCH_DOCUMENT} @@ to_tsquery('simple'::regconfig, %s)",
                [query],
                output_field=BooleanField(),
            )
        )
    if connection.vendor == "sqlite":
        # Each term is letters and digits only, so quoting it cannot break the query.
        query = " ".join([*(f'"{term}"' for term in terms[:-1]), f'"{terms[-1]}"*'])
        return Q(
            pk__in=RawSQL(
                "SELECT rowid FROM leads_lead_search WHERE leads_lead_search MATCH %s", [query]
            )
        )
    condition = Q()
    for term in terms:
        condition &= (
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(company_name__icontains=term)
            | Q(email__icontains=term)
            | Q(topic__icontains=term)
        )
    return condition
