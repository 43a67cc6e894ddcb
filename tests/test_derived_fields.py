"""The derived fields: the keys duplicate detection looks up (how they normalise,
that every save keeps them, that the migration fills them for old rows) and the
days to qualify the lead-source report averages."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from accounts.models import Contact
from crm.backfill import backfill_keys
from crm.text import email_key, phone_key
from leads.models import Lead
from tests.factories import ContactFactory, LeadFactory


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("+1 (415) 555-0100", "14155550100"),
        ("1.415.555.0100", "14155550100"),
        ("415/555 0100 ext", "4155550100"),
        ("\u0664\u0661\u0665 555 0100", "4155550100"),  # Arabic-Indic digits
        ("ext. 12", ""),
        ("555-010", ""),  # too short
        ("", ""),
        (None, ""),
    ],
)
def test_phone_key_keeps_the_digits_of_a_real_number(value, key):
    assert phone_key(value) == key


def test_email_key_ignores_case_and_surrounding_space():
    assert email_key("  Anna.Smith@Example.COM ") == "anna.smith@example.com"
    assert email_key("") == email_key(None) == ""


@pytest.mark.django_db
def test_a_lead_save_keeps_its_keys_and_stores_null_for_nothing_to_match():
    lead = LeadFactory(email="Ann@Example.com", business_phone="(415) 555-0100", mobile_phone="")
    lead.refresh_from_db()
    assert (lead.email_key, lead.business_phone_key, lead.mobile_phone_key) == (
        "ann@example.com",
        "4155550100",
        None,
    )

    lead.email = ""
    lead.mobile_phone = "+44 20 7946 0958"
    lead.save(update_fields=["email", "mobile_phone"])  # the keys go with their fields
    lead.refresh_from_db()
    assert (lead.email_key, lead.mobile_phone_key) == (None, "442079460958")


@pytest.mark.django_db
def test_a_contact_save_keeps_its_phone_keys():
    contact = ContactFactory(business_phone="415.555.0100", mobile_phone="n/a")
    contact.refresh_from_db()
    assert (contact.business_phone_key, contact.mobile_phone_key) == ("4155550100", None)


@pytest.mark.django_db
def test_the_backfill_derives_the_keys_of_rows_saved_before_them(monkeypatch):
    monkeypatch.setattr("crm.backfill.CHUNK", 2)  # several chunks
    leads = [
        LeadFactory(email=f"P{i}@Example.com", business_phone=f"+1 415 555 010{i}")
        for i in range(5)
    ]
    bare = LeadFactory(email="", business_phone="", mobile_phone="")
    Lead.objects.update(email_key=None, business_phone_key=None, mobile_phone_key=None)

    backfill_keys(
        apps,
        SimpleNamespace(connection=connection),
        "leads.Lead",
        {
            "email_key": ("email", email_key),
            "business_phone_key": ("business_phone", phone_key),
            "mobile_phone_key": ("mobile_phone", phone_key),
        },
    )

    keys = dict(Lead.objects.values_list("pk", "email_key"))
    assert keys == {**{lead.pk: f"p{i}@example.com" for i, lead in enumerate(leads)}, bare.pk: None}
    assert set(Lead.objects.values_list("business_phone_key", flat=True)) == {
        *(f"1415555010{i}" for i in range(5)),
        None,
    }
    assert Contact.objects.count() == 0


@pytest.mark.django_db
def test_days_to_qualify_is_derived_from_the_qualified_date():
    lead = LeadFactory()
    assert lead.days_to_qualify is None
    lead.state, lead.status_reason = Lead.State.QUALIFIED, Lead.StatusReason.QUALIFIED
    lead.qualified_at = lead.created_at + timedelta(days=2, hours=12)
    lead.save(update_fields=["state", "status_reason", "qualified_at"])
    lead.refresh_from_db()
    assert lead.days_to_qualify == 2.5


@pytest.mark.django_db
def test_the_days_to_qualify_migration_fills_old_qualified_leads():
    migration = import_module("leads.migrations.0008_days_to_qualify")
    lead = LeadFactory(qualified=True)
    Lead.objects.filter(pk=lead.pk).update(
        qualified_at=lead.created_at + timedelta(hours=36), days_to_qualify=None
    )
    open_lead = LeadFactory()

    migration.backfill(apps, None)

    assert Lead.objects.get(pk=lead.pk).days_to_qualify == pytest.approx(1.5)
    assert Lead.objects.get(pk=open_lead.pk).days_to_qualify is None
