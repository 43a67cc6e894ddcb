"""Database functions the ORM lacks, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.core.exceptions import EmptyResultSet
from django.db.models import FloatField, Func, Q, QuerySet
from django.db.models.expressions import RawSQL


class DaysBetween(Func):
    """The days (with fractions) from the first datetime to the second, in SQL:
    how the migration that added Lead.days_to_qualify filled it for old leads.

    Django's datetime subtraction on SQLite calls a Python function for each row
    (about 50 ms per 250,000 leads, see docs/PERFORMANCE.md); julianday() and
    EXTRACT(EPOCH) stay in the database.
    """

    output_field = FloatField()
    arg_joiner = " - "
    template = "(CAST(EXTRACT(EPOCH FROM (%(expressions)s)) AS double precision) / 86400)"

    def __init__(self, start, end):
        super().__init__(end, start)

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="(julianday(%(expressions)s))",
            arg_joiner=") - julianday(",
            **extra,
        )


def pairs_allowed(field: str, dependent: str, allowed: Mapping[str, Sequence[str]]) -> Q:
    """The condition of a check constraint that lets `dependent` take only the
    values `allowed` lists for `field`'s value (a lead's status reasons per
    state): the Python mapping is the one definition, the database enforces it."""
    condition = Q()
    for value, dependents in allowed.items():
        values = [str(v) for v in dependents]
        match = {dependent: values[0]} if len(values) == 1 else {f"{dependent}__in": values}
        condition |= Q(**{field: str(value)}, **match)
    return condition


def union_all(parts: Sequence[tuple[str, Sequence]]) -> RawSQL | None:
    """The rows of several sliced queries (each `(sql, params)`, e.g. one page of
    each owner's or each stage's rows through its index) as one SQL expression,
    for `pk__in=`: None when there are none. Each part is wrapped, since a
    compound SELECT allows ORDER BY and LIMIT only at its end."""
    if not parts:
        return None
    sql = " UNION ALL ".join(
        f"SELECT * FROM ({part}) AS part_{i}" for i, (part, _) in enumerate(parts)
    )
    return RawSQL(sql, [p for _, params in parts for p in params])


def pks_sql(qs: QuerySet) -> tuple[str, tuple] | None:
    """`qs`'s primary keys as SQL and params; None for a query no row can match
    (a filter Django proves empty, such as a search for nothing)."""
    try:
        return qs.select_related(None).values("pk").query.sql_with_params()
    except EmptyResultSet:
        return None
