"""Keyset ("seek") pages of a lead list."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Func, IntegerField, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.lookups import GreaterThan, LessThan

from crm.internals import indexed_by
from leads.models import Lead

from .cursor import Cursor
from .owner_sort import owner_page
from .search import search_condition
from .sorts import LIST_JOINS, SORT_INDEXES, SORTS, VIEW_SORT_INDEXES, clean_sort

# Below this many leads, a filter narrows the list enough that sorting its
# leads beats reading a sort index in order (see _few_leads).
FEW_LEADS = 5_000


class _Row(Func):
    """A row value, `(a, b, c)`: compared as a whole, it is one index range bound."""

    function = ""
    template = "(%(expressions)s)"
    output_field = IntegerField()  # not used: rows are only compared with rows


@dataclass
class LeadPage:
    """One page of a keyset-paginated list: the rows, where they are in the
    list (1-based), and cursors for the pages on either side."""

    object_list: list[Lead]
    sort: str  # the sort the page is in (an unknown one asked for is newest first)
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

    `qs` is `view`'s list for `user` (leads.selectors.lead_list), maybe filtered further:
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
        probes = [Q(owner=user, state=Lead.State.OPEN)] if view in ("my", "scored") else []
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
        sort=sort,
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
        return owner_page(qs, descending, cursor, limit, hint)
    prefix = "-" if descending else ""
    order = [f"{prefix}{f}" for f in (*fields, "pk")]
    ordered = qs.order_by(*order)
    if cursor is not None:
        ordered = ordered.filter(_after(fields, cursor.key, descending))
    if hint:
        # The page's pks from the hinted index scan; then their rows, with
        # what the list shows joined, sorted again (only `limit` of them).
        pks = RawSQL(*indexed_by(ordered[:limit], hint))
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
