"""What the lead list may be sorted by, and the index each sort reads."""

from __future__ import annotations

# Columns the list may be sorted by (the GET `sort` value, optionally prefixed with
# '-'): the Lead fields to order by; the pk always breaks ties. Each has an index.
SORTS = {
    "name": ("last_name", "first_name"),
    "topic": ("topic",),
    "company": ("company_name",),
    "status": ("status_reason",),
    "source": ("lead_source",),
    "rating": ("rating",),
    "owner": ("owner_id",),  # in the order of the owners' names: see owner_sort
    "created": ("created_at",),
    "score": ("score",),
}
DEFAULT_SORT = "-created"
# A view's own default: My Open Leads Scored lists the best first.
VIEW_DEFAULT_SORTS = {"scored": "-score"}
# The index each sort reads (migration 0003), ending in the pk like the sort.
SORT_INDEXES = {
    "name": "lead_name",
    "topic": "lead_topic",
    "company": "lead_company",
    "status": "lead_status_reason",
    "source": "lead_source",
    "rating": "lead_rating",
    "owner": "lead_owner",
    "created": "lead_created",
    "score": "lead_score",
}


# Sorts that a view's own index delivers along with the view's filter.
VIEW_SORT_INDEXES = {
    "my": {"created": "lead_owner_state_created", "score": "lead_owner_state_score"},
    "scored": {"created": "lead_owner_state_created", "score": "lead_owner_state_score"},
    "open": {"created": "lead_state_created", "score": "lead_state_score"},
}


def clean_sort(sort: str | None) -> str:
    """The sort asked for if it is allowed, else newest first."""
    if sort and sort.lstrip("-") in SORTS and sort.count("-") <= 1:
        return sort
    return DEFAULT_SORT


# What a row of the list shows besides the lead.
LIST_JOINS = ("owner",)
