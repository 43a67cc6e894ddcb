"""Reads of leads for the list views and pages.

The lead list pages with keyset ("seek") pagination: a page is the next
`per_page` rows after the last row shown, in the sort order, found by one range
scan of the index that matches the sort (see the Meta indexes of Lead and
docs/PERFORMANCE.md). Its cost does not grow with the table or with how deep
the page is, and there is no COUNT(*) of the whole list.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection
from django.db.models import BooleanField, Case, F, Func, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.lookups import GreaterThan, LessThan

from .models import Lead

VIEWS = {
    "my": "My Open Leads",
    "open": "Open Leads",
    "closed": "Closed Leads",
    "all": "All Leads",
}
DEFAULT_VIEW = "my"

# Columns the list may be sorted by (the GET `sort` value, optionally prefixed with
# '-'): the Lead fields to order by; the pk always breaks ties. Each has an index.
SORTS = {
    "name": ("last_name", "first_name"),
    "topic": ("topic",),
    "company": ("company_name",),
    "status": ("status_reason",),
    "source": ("lead_source",),
    "rating": ("rating",),
    "owner": ("owner_id",),  # in the order of the owners' names: see _owner_page
    "created": ("created_at",),
}
DEFAULT_SORT = "-created"
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
}
# Below this many leads, a filter narrows the list enough that sorting its
# leads beats reading a sort index in order (see _few_leads).
FEW_LEADS = 5_000
# Past this many owners the owner sort falls back to a plain join and sort
# (SQLite caps a compound SELECT at 500 terms).
MAX_OWNERS_FOR_OWNER_SORT = 200


# What a row of the list shows besides the lead.
LIST_JOINS = ("owner",)


def lead_list(*, user, view: str = DEFAULT_VIEW) -> QuerySet[Lead]:
    """The leads of one system view, with what the list shows joined in."""
    qs = Lead.objects.select_related(*LIST_JOINS)
    if view == "my":
        qs = qs.filter(owner=user, state=Lead.State.OPEN)
    elif view == "open":
        qs = qs.filter(state=Lead.State.OPEN)
    elif view == "closed":
        qs = qs.filter(state__in=[Lead.State.QUALIFIED, Lead.State.DISQUALIFIED])
    return qs


# Sorts that a view's own index delivers along with the view's filter.
VIEW_SORT_INDEXES = {
    "my": {"created": "lead_owner_state_created"},
    "open": {"created": "lead_state_created"},
}


def clean_sort(sort: str | None) -> str:
    """The sort asked for if it is allowed, else newest first."""
    if sort and sort.lstrip("-") in SORTS and sort.count("-") <= 1:
        return sort
    return DEFAULT_SORT


# --- Text search ---------------------------------------------------------------------------

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


# --- Keyset pagination ---------------------------------------------------------------------


class _Row(Func):
    """A row value, `(a, b, c)`: compared as a whole, it is one index range bound."""

    function = ""
    template = "(%(expressions)s)"
    output_field = IntegerField()  # not used: rows are only compared with rows


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: the sort key of the row next to it, its position,
    and the sort it belongs to (a column header keeps the cursor in its link;
    another sort must not reuse it)."""

    sort: str
    key: tuple
    position: int

    def encode(self) -> str:
        data = json.dumps([self.sort, self.position, [_jsonable(v) for v in self.key]])
        return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str | None, sort: str) -> Cursor | None:
        """The cursor in a URL for `sort`, or None when it is missing, for
        another sort or not one of ours."""
        if not value:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
            cursor_sort, position, raw = data
            names = (*SORTS[sort.lstrip("-")], "id")
            if (
                cursor_sort != sort
                or not isinstance(position, int)
                or position < 1
                or len(raw) != len(names)
            ):
                return None
            key = tuple(
                Lead._meta.get_field(name).to_python(v) for name, v in zip(names, raw, strict=True)
            )
            if any(isinstance(v, int) and not -(2**63) <= v < 2**63 for v in key):
                return None  # no row has such a key, and the database would overflow on it
        except (ValueError, TypeError, OverflowError, ValidationError, binascii.Error):
            return None
        return cls(sort=sort, key=key, position=position)


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


@dataclass
class LeadPage:
    """One page of a keyset-paginated list: the rows, where they are in the
    list (1-based), and cursors for the pages on either side."""

    object_list: list[Lead]
    start_index: int
    next_cursor: str | None
    previous_cursor: str | None
    has_previous: bool

    keyset = True  # tells the pagination template which links to draw

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.object_list) - 1

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    def __len__(self) -> int:
        return len(self.object_list)

    def __iter__(self) -> Iterator[Lead]:
        return iter(self.object_list)


def lead_page(
    qs: QuerySet[Lead],
    *,
    sort: str | None = None,
    after: str | None = None,
    before: str | None = None,
    per_page: int = 50,
    view: str = "all",
    user=None,
    narrowed_by: Sequence[Q] = (),
    search: str = "",
) -> LeadPage:
    """The page of `qs` in `sort` order after the cursor `after` (or before the
    cursor `before`); the first page without either. A cursor that is not
    valid is ignored. One query whatever the page (plus one for the owner
    sort, and one on SQLite when `narrowed_by` is given).

    `qs` is `view`'s list for `user` (lead_list), maybe filtered further:
    by the text `search`, and by `narrowed_by`, those further filters that may
    leave only a few leads (an owner, a date range), each as a Q that an index
    alone can answer. When one of them matches fewer than FEW_LEADS leads,
    the page is taken from those leads (see _few_leads).
    """
    sort = clean_sort(sort)
    key = sort.lstrip("-")
    fields = SORTS[key]
    descending = sort.startswith("-")
    after_cursor = Cursor.decode(after, sort)
    before_cursor = None if after_cursor else Cursor.decode(before, sort)

    # A page before a cursor is the page after it in the opposite order, reversed.
    backwards = before_cursor is not None
    cursor = before_cursor or after_cursor
    view_index = VIEW_SORT_INDEXES.get(view, {}).get(key)
    sqlite = connection.vendor == "sqlite"
    probes = []
    if sqlite and not view_index:
        probes = [Q(owner=user, state=Lead.State.OPEN)] if view == "my" else []
        probes += narrowed_by
    matching = search_condition(search)
    if matching is not None:
        probes.append(matching)
    few = _few_leads(probes)
    if few is not None:
        qs, hint = qs.filter(pk__in=few), None
    else:
        hint = (view_index or SORT_INDEXES[key]) if sqlite else None
    rows = _fetch(qs, key, fields, descending != backwards, cursor, per_page + 1, hint)
    more = len(rows) > per_page
    rows = rows[:per_page]
    if backwards:
        rows.reverse()
        start = max(before_cursor.position - len(rows), 1)
        has_previous = more
        has_next = True
    else:
        start = after_cursor.position + 1 if after_cursor else 1
        has_previous = after_cursor is not None
        has_next = more
    if backwards and not more and len(rows) < per_page:
        # Back at the start of a list that changed: show a full first page.
        return lead_page(
            qs,
            sort=sort,
            per_page=per_page,
            view=view,
            user=user,
            narrowed_by=narrowed_by,
            search=search,
        )

    def cursor_of(lead: Lead, position: int) -> str:
        return Cursor(sort=sort, key=_key_of(lead, fields), position=position).encode()

    next_cursor = cursor_of(rows[-1], start + len(rows) - 1) if rows and has_next else None
    # The page before page 2 is the first page: a plain link, no cursor.
    previous_cursor = (
        cursor_of(rows[0], start) if rows and has_previous and start > per_page + 1 else None
    )
    return LeadPage(
        object_list=rows,
        start_index=start,
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
        has_previous=has_previous,
    )


def _key_of(lead: Lead, fields: Sequence[str]) -> tuple:
    return (*(getattr(lead, f) for f in fields), lead.pk)


def _fetch(
    qs: QuerySet[Lead],
    key: str,
    fields: Sequence[str],
    descending: bool,
    cursor: Cursor | None,
    limit: int,
    hint: str | None,
) -> list[Lead]:
    if key == "owner":
        return _owner_page(qs, descending, cursor, limit, hint)
    prefix = "-" if descending else ""
    order = [f"{prefix}{f}" for f in (*fields, "pk")]
    ordered = qs.order_by(*order)
    if cursor is not None:
        ordered = ordered.filter(_after(fields, cursor.key, descending))
    if hint:
        # The page's pks from the hinted index scan; then their rows, with
        # what the list shows joined, sorted again (only `limit` of them).
        pks = RawSQL(*_pks_sql(ordered[:limit], hint))
        return list(Lead.objects.select_related(*LIST_JOINS).filter(pk__in=pks).order_by(*order))
    return list(ordered[:limit])


def _few_leads(probes: Sequence[Q]) -> list[int] | None:
    """The pks of the leads matching the narrowest of `probes`, if it matches
    fewer than FEW_LEADS; None when every probe matches more (or there is none).

    Why: a page reads a sort index in order and skips the rows that do not
    match, which is fast while matches are common. When a filter leaves a
    few leads (a rep's ten open leads, a search for one person), that scan
    would look at every lead in vain: 3.6 s on SQLite for an owner with ten
    leads sorted by company, 4.6 s on PostgreSQL for a search matching
    nothing (its planner cannot estimate a prefix search, assumes 5,000
    matches and computes to_tsvector for each of a million rows). Sorting
    those few leads, found through their filter's own index, takes
    milliseconds. One statement reads at most FEW_LEADS pks per probe.

    Only the text search is probed on PostgreSQL: its planner estimates owner
    and date filters well. On SQLite the planner ignores the LIMIT, so without
    a probe saying "few" the page is read through the sort's index, named with
    INDEXED BY: given `rating = 'hot'` and a sort by company, SQLite's own plan
    reads every hot lead through the rating index and sorts them (hundreds of
    ms at a million leads), where the company index in order stops after a
    few hundred rows. See docs/PERFORMANCE.md.
    """
    if not probes:
        return None
    parts, params = [], []
    for i, q in enumerate(probes):
        sql, part_params = (
            Lead.objects.filter(q).order_by().values("pk")[:FEW_LEADS].query.sql_with_params()
        )
        parts.append(f"SELECT {i}, pk FROM ({sql}) AS probe_{i}")
        params.extend(part_params)
    found: list[list[int]] = [[] for _ in probes]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for i, pk in cursor.fetchall():
            found[i].append(pk)
    narrowest = min(found, key=len)
    return narrowest if len(narrowest) < FEW_LEADS else None


def _pks_sql(qs: QuerySet[Lead], index: str) -> tuple[str, tuple]:
    """`qs`'s pks as SQL (and params) that reads the lead table through `index` (SQLite)."""
    sql, params = qs.select_related(None).values("pk").query.sql_with_params()
    table = connection.ops.quote_name(Lead._meta.db_table)
    main_from = f"FROM {table} "
    if sql.count(main_from) != 1:
        raise ValueError(f"Cannot add an index hint to: {sql}")
    sql = sql.replace(main_from, f"{main_from}INDEXED BY {connection.ops.quote_name(index)} ")
    return sql, params


def _after(fields: Sequence[str], key: tuple, descending: bool):
    """`(f1, f2, pk) > (v1, v2, p)` (`<` when descending): the rows past the cursor.

    A row comparison, not the equivalent ORs, because both databases turn it
    into one range bound on the index whose columns it lists.
    """
    names = (*fields, "id")
    values = [
        Value(value, output_field=Lead._meta.get_field(name))
        for name, value in zip(names, key, strict=True)
    ]
    lookup = LessThan if descending else GreaterThan
    return lookup(_Row(*(F(name) for name in names)), _Row(*values))


def _owner_page(
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
    parts, params = [], []
    for owner in owners:
        part = qs.filter(owner_id=owner)
        if cursor is not None and owner == cursor.key[0]:
            part = part.filter(**{past_cursor: cursor.key[1]})
        part = part.order_by(pk_order)[:limit]
        try:
            sql, part_params = (
                _pks_sql(part, hint)
                if hint
                else part.select_related(None).values("pk").query.sql_with_params()
            )
        except EmptyResultSet:
            continue  # a filter no row can match (e.g. a search that found nothing)
        # Wrapped, since a compound SELECT allows ORDER BY/LIMIT only at its end.
        parts.append(f"SELECT * FROM ({sql}) AS owner_{len(parts)}")
        params.extend(part_params)
    if not parts:
        return []
    rank = Case(
        *(When(owner_id=owner, then=Value(i)) for i, owner in enumerate(owners)),
        output_field=IntegerField(),
    )
    pks = RawSQL(" UNION ALL ".join(parts), params)
    return list(
        Lead.objects.select_related(*LIST_JOINS).filter(pk__in=pks).order_by(rank, pk_order)[:limit]
    )


def lead_for_page(pk: int) -> Lead:
    """The lead with what its page shows.

    The links every lead may have are joined; those only a closed lead has
    are prefetched, which costs no query while they are empty. Joining all
    ten made PostgreSQL spend 6 ms planning the query (an 11-table join) for
    a 0.7 ms lookup.
    """
    return (
        Lead.objects.select_related(
            "owner", "stage", "currency", "existing_account", "existing_contact"
        )
        .prefetch_related(
            "qualified_account",
            "qualified_contact",
            "qualified_opportunity",
            "qualified_by",
            "disqualified_by",
        )
        .get(pk=pk)
    )
