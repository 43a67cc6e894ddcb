"""What crm.internals leans on in Django and django-simple-history. Each test
fails loudly when an upgrade changes it: then rework or drop that piece of
crm.internals (and measure again with make bench)."""

from __future__ import annotations

import pytest
from django.db import connection
from simple_history.manager import HistoryManager

from crm import internals, process
from leads.listing.sorts import SORT_INDEXES, SORTS, VIEW_SORT_INDEXES
from leads.models import Lead
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_simple_history_still_builds_the_manager_class_on_every_access(monkeypatch):
    """CachedHistoryManager caches what the history descriptor builds at every
    access; if simple-history stops building it there, the cache is moot."""
    calls = []
    original = internals.CachedHistoryManager.from_queryset.__wrapped__

    def counting(cls, queryset_class, class_name=None):
        calls.append(queryset_class)
        return original(cls, queryset_class, class_name)

    assert issubclass(internals.CachedHistoryManager, HistoryManager)
    monkeypatch.setattr(
        internals.CachedHistoryManager, "from_queryset", classmethod(counting), raising=True
    )
    Lead.history  # noqa: B018 - the access is what is measured
    Lead.history  # noqa: B018
    assert len(calls) == 2, "simple-history no longer builds the manager class per access"


def test_the_cached_manager_class_is_built_once():
    assert type(Lead.history) is type(Lead.history)


def test_bulk_history_rows_match_what_a_save_records(rep):
    """The INSERT ... SELECT copies the historical model's tracked columns and
    fills the columns simple-history adds; a save writes the same row."""
    saved = LeadFactory(owner=rep, topic="Saved", email="a@example.com")
    bulk = Lead(
        topic="Bulk",
        last_name="Lee",
        email="b@example.com",
        owner=rep,
        stage=process.first_lead_stage(),
    )
    bulk.set_derived_fields()
    Lead.objects.bulk_create([bulk])
    internals.bulk_history_created(Lead, [bulk.pk], rep)

    history = Lead.history.model
    added = {f.name for f in history._meta.concrete_fields} - {
        f.name for f in history.tracked_fields
    }
    # What bulk_history_created fills besides the tracked columns; a new column
    # simple-history adds would be left out of the INSERT.
    assert added == {
        "history_id",
        "history_date",
        "history_type",
        "history_user",
        "history_change_reason",
    }
    row = Lead.history.get(id=bulk.pk)
    reference = Lead.history.get(id=saved.pk)
    assert (row.history_type, row.history_user, row.history_change_reason) == ("+", rep, None)
    assert reference.history_type == "+"
    for field in history.tracked_fields:
        assert getattr(row, field.attname) == getattr(bulk, field.attname), field.name


@pytest.mark.skipif(connection.vendor != "sqlite", reason="INDEXED BY is SQLite's")
@pytest.mark.parametrize("key", SORTS)
def test_the_index_hint_still_fits_djangos_sql(rep, key):
    """indexed_by splices INDEXED BY into the one FROM of the lead table in the
    SQL Django generates for a list page; SQLite then reads that index."""
    LeadFactory.create_batch(3, owner=rep)
    fields = SORTS[key]
    page = Lead.objects.select_related("owner").filter(state="open").order_by(*fields, "pk")[:51]
    for index in {SORT_INDEXES[key], *VIEW_SORT_INDEXES.get("open", {}).values()}:
        sql, params = internals.indexed_by(page, index)
        assert sql.count("INDEXED BY") == 1
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row) for row in cursor.fetchall())
            cursor.execute(sql, params)
            assert len(cursor.fetchall()) == 3
        assert index in plan, plan
