"""The owner sort of the lead list, in the order of the owners' names."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from crm.db import pks_sql, union_all
from crm.internals import indexed_by
from leads.models import Lead

from .cursor import Cursor
from .sorts import LIST_JOINS

# Past this many owners the owner sort falls back to a plain join and sort
# (SQLite caps a compound SELECT at 500 terms).
MAX_OWNERS_FOR_OWNER_SORT = 200


def owner_page(
    qs: QuerySet[Lead], descending: bool, cursor: Cursor | None, limit: int, hint: str | None
) -> list[Lead]:
    """The owner sort: owners in the order of their names, each owner's leads by pk.

    Ordering by a column of the joined user table cannot follow any index of
    the lead table, so a million leads would all be sorted for each page.
    Instead, a union of one range scan of the (owner, id) index per owner
    yields at most `limit` rows each, and only those are put in order.
    """
    owners = list(
        get_user_model()
        .objects.order_by(
            *(f"{'-' if descending else ''}{f}" for f in ("last_name", "first_name", "pk"))
        )
        .values_list("pk", flat=True)
    )
    pk_order = "-pk" if descending else "pk"
    past_cursor = "pk__lt" if descending else "pk__gt"
    if cursor is not None:
        if cursor.key[0] not in owners:
            return []
        owners = owners[owners.index(cursor.key[0]) :]
    if len(owners) > MAX_OWNERS_FOR_OWNER_SORT:
        prefix = "-" if descending else ""
        ordered = qs.order_by(
            *(f"{prefix}{f}" for f in ("owner__last_name", "owner__first_name", "owner_id")),
            pk_order,
        )
        if cursor is not None:
            # The cursor owner's leads past the cursor, then the later owners'.
            ordered = ordered.filter(
                Q(owner_id__in=owners[1:])
                | Q(owner_id=cursor.key[0], **{past_cursor: cursor.key[1]})
            )
        return list(ordered[:limit])
    parts = []
    for owner in owners:
        part = qs.filter(owner_id=owner)
        if cursor is not None and owner == cursor.key[0]:
            part = part.filter(**{past_cursor: cursor.key[1]})
        part = part.order_by(pk_order)[:limit]
        try:
            found = indexed_by(part, hint) if hint else pks_sql(part)
        except EmptyResultSet:
            found = None
        if found is not None:  # else a filter no row can match (a search that found nothing)
            parts.append(found)
    pks = union_all(parts)
    if pks is None:
        return []
    rank = Case(
        *(When(owner_id=owner, then=Value(i)) for i, owner in enumerate(owners)),
        output_field=IntegerField(),
    )
    return list(
        Lead.objects.select_related(*LIST_JOINS).filter(pk__in=pks).order_by(rank, pk_order)[:limit]
    )
