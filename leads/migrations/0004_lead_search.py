"""Full-text search over the lead list's searched fields: name, company, email, topic.

SQLite: an FTS5 external-content table (it stores only the index; the text
stays in leads_lead) kept in sync by triggers, so every writer, including the
ORM, the admin, bulk inserts and raw SQL, updates it. PostgreSQL: a GIN index
on a tsvector expression, which PostgreSQL maintains itself. The expression
must stay identical to leads.listing.search.PG_SEARCH_DOCUMENT, or the planner will
not use the index.

Caution for later migrations: on SQLite, Django rebuilds a table for many
ALTERs (copy, drop, rename), which drops its triggers. A migration that alters
leads_lead must recreate them (see TRIGGERS_SQL); the sync tests in
tests/leads/test_search.py fail if it does not.
"""

from django.db import migrations

FIELDS = ("first_name", "last_name", "company_name", "email", "topic")
COLUMNS = ", ".join(FIELDS)


def _values(row):
    return ", ".join(f"{row}.{f}" for f in FIELDS)


SQLITE_TABLE_SQL = f"""
CREATE VIRTUAL TABLE leads_lead_search USING fts5(
    {COLUMNS},
    content='leads_lead', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2',
    prefix='2 3', detail='none', columnsize=0
)
"""
TRIGGERS_SQL = [
    f"""
    CREATE TRIGGER leads_lead_search_insert AFTER INSERT ON leads_lead BEGIN
        INSERT INTO leads_lead_search(rowid, {COLUMNS}) VALUES (new.id, {_values("new")});
    END
    """,
    f"""
    CREATE TRIGGER leads_lead_search_delete AFTER DELETE ON leads_lead BEGIN
        INSERT INTO leads_lead_search(leads_lead_search, rowid, {COLUMNS})
        VALUES ('delete', old.id, {_values("old")});
    END
    """,
    # Only when a searched field changed: qualifying a lead rewrites its row
    # but not its text, and should not pay for reindexing it.
    f"""
    CREATE TRIGGER leads_lead_search_update AFTER UPDATE ON leads_lead
    WHEN {" OR ".join(f"old.{f} IS NOT new.{f}" for f in FIELDS)}
    BEGIN
        INSERT INTO leads_lead_search(leads_lead_search, rowid, {COLUMNS})
        VALUES ('delete', old.id, {_values("old")});
        INSERT INTO leads_lead_search(rowid, {COLUMNS}) VALUES (new.id, {_values("new")});
    END
    """,
]
SQLITE_DROP_SQL = [
    "DROP TRIGGER IF EXISTS leads_lead_search_insert",
    "DROP TRIGGER IF EXISTS leads_lead_search_delete",
    "DROP TRIGGER IF EXISTS leads_lead_search_update",
    "DROP TABLE IF EXISTS leads_lead_search",
]

# Email punctuation becomes spaces so an address is searchable by its parts,
# as the SQLite tokenizer does; the parser would otherwise keep it whole.
PG_INDEX_SQL = """
CREATE INDEX lead_search ON leads_lead USING gin (
    to_tsvector('simple'::regconfig,
        first_name || ' ' || last_name || ' ' || company_name || ' '
        || translate(email, '@._+-', '     ') || ' ' || topic)
)
"""
PG_DROP_SQL = "DROP INDEX IF EXISTS lead_search"


def create_search(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_TABLE_SQL)
        # Index the leads that exist already.
        schema_editor.execute("INSERT INTO leads_lead_search(leads_lead_search) VALUES ('rebuild')")
        for sql in TRIGGERS_SQL:
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        schema_editor.execute(PG_INDEX_SQL)


def drop_search(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for sql in SQLITE_DROP_SQL:
            schema_editor.execute(sql)
    elif vendor == "postgresql":
        schema_editor.execute(PG_DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0003_lead_list_indexes"),
    ]

    operations = [
        migrations.RunPython(create_search, drop_search, elidable=False),
    ]
