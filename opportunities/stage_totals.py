"""The open opportunities per stage, owner and currency, with their estimated
revenue: the board's column totals, whatever the number of opportunities.

Database triggers on the opportunity table write a StageTotalChange row for
every write that moves an opportunity into, out of or between totals (the
services, the admin, a raw `QuerySet.update()`, the benchmark's bulk COPY all
count). The triggers only insert: two writes never wait for each other on a
total, so a bulk qualify and a single qualify cannot deadlock over one (they
did when the triggers updated StageTotal itself). `fold()` moves the changes
into StageTotal in a short transaction of its own; the board reads both
(`totals()`), and folds when the changes have piled up.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Max, Sum, Value

TABLE = "opportunities_opportunity"
TOTALS = "opportunities_stagetotal"
CHANGES = "opportunities_stagetotalchange"
KEY = "stage_id, owner_id, currency_id"
# The columns that can move an opportunity between totals.
WATCHED = "stage_id, owner_id, currency_id, state, estimated_revenue"
# The board folds the changes once there are this many.
FOLD_AFTER = 1000
# pg_try_advisory_xact_lock's key: one fold at a time.
FOLD_LOCK = 7_262_011

_ADD = f"INSERT INTO {CHANGES} ({KEY}, opportunities, revenue)"
_COUNTED = "{row}.state = 'open' AND {row}.stage_id IS NOT NULL"


def _change(row: str, sign: str) -> str:
    """The change row `row` (OLD or NEW) makes, counted in (+) or out (-)."""
    return (
        f"{_ADD} SELECT {row}.stage_id, {row}.owner_id, {row}.currency_id, {sign}1, "
        f"{sign}COALESCE({row}.estimated_revenue, 0) WHERE {_COUNTED.format(row=row)}"
    )


SQLITE_CREATE = [
    f"CREATE TRIGGER leadline_stage_totals_insert AFTER INSERT ON {TABLE} "
    f"BEGIN {_change('NEW', '')}; END",
    f"CREATE TRIGGER leadline_stage_totals_update AFTER UPDATE OF {WATCHED} ON {TABLE} "
    f"BEGIN {_change('OLD', '-')}; {_change('NEW', '')}; END",
    f"CREATE TRIGGER leadline_stage_totals_delete AFTER DELETE ON {TABLE} "
    f"BEGIN {_change('OLD', '-')}; END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS leadline_stage_totals_insert",
    "DROP TRIGGER IF EXISTS leadline_stage_totals_update",
    "DROP TRIGGER IF EXISTS leadline_stage_totals_delete",
]

POSTGRESQL_CREATE = [
    f"""
CREATE FUNCTION leadline_stage_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    {_change("OLD", "-")};
  END IF;
  IF TG_OP <> 'DELETE' THEN
    {_change("NEW", "")};
  END IF;
  RETURN NULL;
END
$$
""",
    f"CREATE TRIGGER leadline_stage_totals_insert_delete AFTER INSERT OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION leadline_stage_totals()",
    f"CREATE TRIGGER leadline_stage_totals_update AFTER UPDATE OF {WATCHED} ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION leadline_stage_totals()",
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS leadline_stage_totals_insert_delete ON {TABLE}",
    f"DROP TRIGGER IF EXISTS leadline_stage_totals_update ON {TABLE}",
    "DROP FUNCTION IF EXISTS leadline_stage_totals()",
]

# Everything counted afresh from the opportunities (install and repair).
RECOUNT = [
    f"DELETE FROM {CHANGES}",
    f"DELETE FROM {TOTALS}",
    f"INSERT INTO {TOTALS} ({KEY}, opportunities, revenue) "
    f"SELECT {KEY}, COUNT(*), COALESCE(SUM(estimated_revenue), 0) FROM {TABLE} "
    f"WHERE state = 'open' AND stage_id IS NOT NULL GROUP BY {KEY}",
]
# Add folded changes to the totals (SQLite and PostgreSQL alike).
UPSERT = (
    f"INSERT INTO {TOTALS} ({KEY}, opportunities, revenue) VALUES (%s, %s, %s, %s, %s) "
    f"ON CONFLICT ({KEY}) DO UPDATE SET "
    f"opportunities = {TOTALS}.opportunities + excluded.opportunities, "
    f"revenue = {TOTALS}.revenue + excluded.revenue"
)


def statements(vendor: str, *, create: bool) -> list[str]:
    if vendor == "postgresql":
        return POSTGRESQL_CREATE if create else POSTGRESQL_DROP
    if vendor == "sqlite":
        return SQLITE_CREATE if create else SQLITE_DROP
    raise NotImplementedError(f"No stage-total triggers for {vendor}.")


def install(apps, schema_editor) -> None:
    """Create the triggers and count the opportunities already there (migration 0007)."""
    _install(schema_editor.connection.vendor, schema_editor.execute)


def uninstall(apps, schema_editor) -> None:
    _uninstall(schema_editor.connection.vendor, schema_editor.execute)


def _install(vendor: str, execute) -> None:
    _uninstall(vendor, execute)
    for sql in [*statements(vendor, create=True), *RECOUNT]:
        execute(sql)


def _uninstall(vendor: str, execute) -> None:
    for sql in statements(vendor, create=False):
        execute(sql)


def totals(stage_ids: list[int], **filters) -> tuple[dict[tuple[int, int], list], int]:
    """The open opportunities of `stage_ids` by (stage, currency): [count,
    revenue], from the totals and the changes not yet folded, in one query;
    `filters` narrow them (owner_id__in, currency_id). Also says how many
    change rows were read (the board folds when there are many)."""
    from .models import StageTotal, StageTotalChange

    def part(model, rows):
        return (
            model.objects.filter(stage_id__in=stage_ids, **filters)
            .values("stage_id", "currency_id")
            .annotate(count=Sum("opportunities"), revenue=Sum("revenue"), rows=rows)
            .order_by()
        )

    union = part(StageTotal, Value(0)).union(part(StageTotalChange, Count("*")), all=True)
    found: dict[tuple[int, int], list] = {}
    changes = 0
    for row in union:
        figures = found.setdefault((row["stage_id"], row["currency_id"]), [0, Decimal(0)])
        figures[0] += row["count"] or 0
        figures[1] += Decimal(str(row["revenue"] or 0))
        changes += row["rows"]
    return found, changes


def fold() -> int:
    """Move the changes into the totals, in a transaction of its own (one fold at
    a time on PostgreSQL; another waiting one returns at once). Returns how
    many changes were folded. Changes a transaction has not committed yet are
    invisible here and stay for the next fold: none is lost or counted twice."""
    from .models import StageTotalChange

    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [FOLD_LOCK])
            if not cursor.fetchone()[0]:
                return 0
        last = StageTotalChange.objects.aggregate(last=Max("id"))["last"]
        if last is None:
            return 0
        done = StageTotalChange.objects.filter(id__lte=last)
        sums = (
            done.values("stage_id", "owner_id", "currency_id")
            .annotate(count=Sum("opportunities"), revenue=Sum("revenue"), rows=Count("*"))
            .order_by("stage_id", "owner_id", "currency_id")
        )
        folded = 0
        params = []
        for row in sums:
            folded += row["rows"]
            params.append(
                (row["stage_id"], row["owner_id"], row["currency_id"], row["count"], row["revenue"])
            )
        cursor.executemany(UPSERT, params)
        done.delete()
    return folded


def installed(connection) -> bool:
    """Whether the triggers are in the database (SQLite drops a table's triggers
    when a migration rebuilds the table)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s "
                "AND name LIKE 'leadline_stage_totals_%%'",
                [TABLE],
            )
            return cursor.fetchone()[0] == len(SQLITE_CREATE)
        cursor.execute(
            "SELECT COUNT(*) FROM pg_trigger WHERE tgrelid = %s::regclass "
            "AND tgname LIKE 'leadline_stage_totals_%%'",
            [TABLE],
        )
        return cursor.fetchone()[0] == 2


def reinstall_if_missing(sender, *, using: str = "default", **kwargs) -> None:
    """After migrate: put the triggers back, and count again, if a migration lost
    them (post_migrate handler, opportunities.apps)."""
    from django.db import connections

    db = connections[using]
    if db.vendor not in ("sqlite", "postgresql"):
        return
    with db.cursor() as cursor:
        tables = db.introspection.table_names(cursor)
    if TOTALS not in tables or CHANGES not in tables or installed(db):
        return
    with transaction.atomic(using=using), db.cursor() as cursor:
        _install(db.vendor, cursor.execute)
