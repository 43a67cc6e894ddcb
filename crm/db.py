"""Database functions the ORM lacks, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db.models import FloatField, Func, Q


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
