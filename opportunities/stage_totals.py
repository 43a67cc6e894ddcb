"""The database triggers that keep StageTotal: the open opportunities per stage,
owner and currency, with their estimated revenue (the board's column totals).

Triggers rather than service code, so that every write counts: the services,
the admin, a raw `QuerySet.update()`, the benchmark's bulk COPY. Only the
columns that change a total fire the update trigger. On PostgreSQL, a move
between two totals updates them in a fixed order (by key), so two moves in
opposite directions at the same moment wait for each other instead of
deadlocking.
"""

from __future__ import annotations

TABLE = "opportunities_opportunity"
TOTALS = "opportunities_stagetotal"
KEY = "stage_id, owner_id, currency_id"
# What the update trigger watches: the key, the state and the revenue.
WATCHED = "stage_id, owner_id, currency_id, state, estimated_revenue"

SQLITE_CREATE = [
    f"""
CREATE TRIGGER leadline_stage_totals_insert AFTER INSERT ON {TABLE}
WHEN NEW.state = 'open' AND NEW.stage_id IS NOT NULL
BEGIN
  INSERT INTO {TOTALS} ({KEY}, opportunities, revenue)
  VALUES (NEW.stage_id, NEW.owner_id, NEW.currency_id, 1, COALESCE(NEW.estimated_revenue, 0))
  ON CONFLICT ({KEY}) DO UPDATE SET
    opportunities = opportunities + 1, revenue = revenue + excluded.revenue;
END
""",
    f"""
CREATE TRIGGER leadline_stage_totals_update AFTER UPDATE OF {WATCHED} ON {TABLE}
BEGIN
  UPDATE {TOTALS}
  SET opportunities = opportunities - 1, revenue = revenue - COALESCE(OLD.estimated_revenue, 0)
  WHERE OLD.state = 'open' AND stage_id = OLD.stage_id AND owner_id = OLD.owner_id
    AND currency_id = OLD.currency_id;
  INSERT INTO {TOTALS} ({KEY}, opportunities, revenue)
  SELECT NEW.stage_id, NEW.owner_id, NEW.currency_id, 1, COALESCE(NEW.estimated_revenue, 0)
  WHERE NEW.state = 'open' AND NEW.stage_id IS NOT NULL
  ON CONFLICT ({KEY}) DO UPDATE SET
    opportunities = opportunities + 1, revenue = revenue + excluded.revenue;
END
""",
    f"""
CREATE TRIGGER leadline_stage_totals_delete AFTER DELETE ON {TABLE}
WHEN OLD.state = 'open' AND OLD.stage_id IS NOT NULL
BEGIN
  UPDATE {TOTALS}
  SET opportunities = opportunities - 1, revenue = revenue - COALESCE(OLD.estimated_revenue, 0)
  WHERE stage_id = OLD.stage_id AND owner_id = OLD.owner_id AND currency_id = OLD.currency_id;
END
""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS leadline_stage_totals_insert",
    "DROP TRIGGER IF EXISTS leadline_stage_totals_update",
    "DROP TRIGGER IF EXISTS leadline_stage_totals_delete",
]

POSTGRESQL_CREATE = [
    f"""
CREATE FUNCTION leadline_stage_total_add(s bigint, o integer, c bigint, n integer, r numeric)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO {TOTALS} ({KEY}, opportunities, revenue) VALUES (s, o, c, n, r)
  ON CONFLICT ({KEY}) DO UPDATE SET
    opportunities = {TOTALS}.opportunities + EXCLUDED.opportunities,
    revenue = {TOTALS}.revenue + EXCLUDED.revenue;
$$
""",
    """
CREATE FUNCTION leadline_stage_totals() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  counted_before boolean := false;
  counted_after boolean := false;
  before_revenue numeric := 0;
  after_revenue numeric := 0;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    counted_before := OLD.state = 'open' AND OLD.stage_id IS NOT NULL;
    before_revenue := COALESCE(OLD.estimated_revenue, 0);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    counted_after := NEW.state = 'open' AND NEW.stage_id IS NOT NULL;
    after_revenue := COALESCE(NEW.estimated_revenue, 0);
  END IF;
  IF counted_before AND counted_after
     AND (OLD.stage_id, OLD.owner_id, OLD.currency_id)
       = (NEW.stage_id, NEW.owner_id, NEW.currency_id) THEN
    IF before_revenue <> after_revenue THEN
      PERFORM leadline_stage_total_add(
        NEW.stage_id, NEW.owner_id, NEW.currency_id, 0, after_revenue - before_revenue);
    END IF;
  ELSIF counted_before AND counted_after
     AND (NEW.stage_id, NEW.owner_id, NEW.currency_id)
       < (OLD.stage_id, OLD.owner_id, OLD.currency_id) THEN
    PERFORM leadline_stage_total_add(NEW.stage_id, NEW.owner_id, NEW.currency_id, 1, after_revenue);
    PERFORM leadline_stage_total_add(
      OLD.stage_id, OLD.owner_id, OLD.currency_id, -1, -before_revenue);
  ELSE
    IF counted_before THEN
      PERFORM leadline_stage_total_add(
        OLD.stage_id, OLD.owner_id, OLD.currency_id, -1, -before_revenue);
    END IF;
    IF counted_after THEN
      PERFORM leadline_stage_total_add(
        NEW.stage_id, NEW.owner_id, NEW.currency_id, 1, after_revenue);
    END IF;
  END IF;
  RETURN NULL;
END
$$
""",
    f"""
CREATE TRIGGER leadline_stage_totals_insert_delete AFTER INSERT OR DELETE ON {TABLE}
FOR EACH ROW EXECUTE FUNCTION leadline_stage_totals()
""",
    f"""
CREATE TRIGGER leadline_stage_totals_update AFTER UPDATE OF {WATCHED} ON {TABLE}
FOR EACH ROW EXECUTE FUNCTION leadline_stage_totals()
""",
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS leadline_stage_totals_insert_delete ON {TABLE}",
    f"DROP TRIGGER IF EXISTS leadline_stage_totals_update ON {TABLE}",
    "DROP FUNCTION IF EXISTS leadline_stage_totals()",
    "DROP FUNCTION IF EXISTS leadline_stage_total_add(bigint, integer, bigint, integer, numeric)",
]

# The totals of the opportunities already there.
BACKFILL = f"""
INSERT INTO {TOTALS} ({KEY}, opportunities, revenue)
SELECT {KEY}, COUNT(*), COALESCE(SUM(estimated_revenue), 0)
FROM {TABLE} WHERE state = 'open' AND stage_id IS NOT NULL
GROUP BY {KEY}
"""


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
    for sql in statements(vendor, create=True):
        execute(sql)
    execute(f"DELETE FROM {TOTALS}")
    execute(BACKFILL)


def _uninstall(vendor: str, execute) -> None:
    for sql in statements(vendor, create=False):
        execute(sql)


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
    from django.db import connections, transaction

    connection = connections[using]
    if connection.vendor not in ("sqlite", "postgresql"):
        return
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    if TOTALS not in tables or installed(connection):
        return
    with transaction.atomic(using=using), connection.cursor() as cursor:
        _install(connection.vendor, cursor.execute)
