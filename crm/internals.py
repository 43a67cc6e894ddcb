"""The code that leans on Django's and django-simple-history's internals, each
for a reason make bench measured (docs/PERFORMANCE.md), and nowhere else.
tests/test_internals.py fails loudly when an upgrade of either changes what
this module relies on; then rework or drop the piece, measuring again.

- CachedHistoryManager: simple-history builds the `history` manager's class at
  every access (from_queryset), once per save of a tracked record: 67 µs, 1.6 µs
  cached (measured 30 November 2026), four saves per qualify: about 6 % of a
  qualify on SQLite.
- bulk_history_created: "Created" history rows for rows just bulk-inserted, by
  INSERT ... SELECT from the stored rows: 4 ms per 2,000 leads, where
  simple-history's bulk_history_create builds them in Python in 225 ms.
- indexed_by: SQLite's INDEXED BY spliced into the SQL Django generates, so the
  lead list reads the sort's index (see leads.listing).
"""

from __future__ import annotations

import functools

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection, connections, models, router
from django.db.models import QuerySet
from django.utils import timezone
from simple_history.manager import HistoryManager


class CachedHistoryManager(HistoryManager):
    """simple-history's manager, built once per queryset class.

    The `history` descriptor builds its manager class with `from_queryset` at
    every access, and every save of a tracked record accesses it once: about
    0.1-0.2 ms each, four times per qualify. The class it builds is the same
    every time, so it is cached.
    """

    @classmethod
    @functools.cache
    def from_queryset(cls, queryset_class, class_name=None):
        return super().from_queryset(queryset_class, class_name)


def bulk_history_created(model: type[models.Model], pks: list[int], user: AbstractBaseUser) -> None:
    """Write the "Created" history rows of rows just bulk-inserted (an import).

    One INSERT ... SELECT per 500 records copies each tracked column from the
    stored row, so a snapshot is exactly what was saved, without building a
    historical instance per record in Python (simple-history's own bulk way
    costs about as much as the insert of the records themselves).
    """
    history = model.history.model
    connection = connections[router.db_for_write(history)]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in history.tracked_fields)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        for start in range(0, len(pks), 500):
            chunk = pks[start : start + 500]
            cursor.execute(
                f"INSERT INTO {quote(history._meta.db_table)} ({columns}, "
                f"{quote('history_date')}, {quote('history_type')}, "
                f"{quote('history_user_id')}, {quote('history_change_reason')}) "
                f"SELECT {columns}, %s, '+', %s, NULL FROM {quote(model._meta.db_table)} "
                f"WHERE {quote(model._meta.pk.column)} IN ({', '.join(['%s'] * len(chunk))})",
                [now, user.pk, *chunk],
            )


def indexed_by(qs: QuerySet, index: str) -> tuple[str, tuple]:
    """`qs`'s pks as SQL (and params) that reads its model's table through
    `index` (SQLite's INDEXED BY, which Django cannot say)."""
    sql, params = qs.select_related(None).values("pk").query.sql_with_params()
    table = connection.ops.quote_name(qs.model._meta.db_table)
    main_from = f"FROM {table} "
    if sql.count(main_from) != 1:
        raise ValueError(f"Cannot add an index hint to: {sql}")
    sql = sql.replace(main_from, f"{main_from}INDEXED BY {connection.ops.quote_name(index)} ")
    return sql, params
