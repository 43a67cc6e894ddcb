"""The audit trail: every save of a lead, account, contact or opportunity keeps a
snapshot with its author, shown newest first in the record page's History
section and in the admin."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account
from crm.history import record_history, set_history_user
from leads import services
from leads.models import Lead
from opportunities.models import Opportunity
from tests.factories import (
    AccountFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
    currency,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_rep(client, rep):
    client.force_login(rep)
    return client


def history_section(response) -> str:
    """The History card of a record page."""
    body = response.content.decode()
    match = re.search(r'<section[^>]*data-testid="history".*?</section>', body, re.S)
    assert match, "no History section on the page"
    return match.group(0)


def changes_of(entry) -> dict[str, tuple]:
    return {c.label: (c.old, c.new) for c in entry.changes}


def lead_form(lead: Lead, **changes) -> dict:
    """The edit form's POST data for a lead built by LeadFactory, with `changes` applied."""
    data = {
        "topic": lead.topic,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "company_name": lead.company_name,
        "job_title": lead.job_title,
        "business_phone": lead.business_phone,
        "email": lead.email,
        "lead_source": lead.lead_source,
        "rating": lead.rating,
        "status_reason": lead.status_reason,
        "preferred_contact_method": lead.preferred_contact_method,
    }
    data.update(changes)
    return data


# --- what is recorded ---


def test_creating_a_lead_in_the_web_records_who_created_it(client_rep, rep):
    response = client_rep.post(
        reverse("leads:create"),
        {
            "topic": "New CRM",
            "last_name": "Smith",
            "rating": "hot",
            "status_reason": "new",
            "preferred_contact_method": "any",
        },
    )
    assert response.status_code == 302
    lead = Lead.objects.get()
    (row,) = lead.history.all()
    assert row.history_type == "+"
    assert row.history_user == rep
    assert row.topic == "New CRM"


def test_editing_a_lead_records_the_changed_fields(client_rep, rep):
    lead = LeadFactory(owner=rep, topic="Old topic", rating="warm")
    response = client_rep.post(
        reverse("leads:edit", args=[lead.pk]),
        lead_form(lead, topic="New topic", rating="hot", status_reason="contacted"),
    )
    assert response.status_code == 302
    latest = record_history(lead).entries[0]
    assert latest.kind == "Changed"
    assert latest.user == rep
    assert changes_of(latest) == {
        "topic": ("Old topic", "New topic"),
        "rating": ("Warm", "Hot"),
        "status reason": ("New", "Contacted"),
    }


def test_qualify_records_the_state_change_and_links(client_rep, rep):
    lead = LeadFactory(owner=rep)
    client_rep.post(reverse("leads:qualify", args=[lead.pk]))
    lead.refresh_from_db()
    latest = record_history(lead).entries[0]
    assert latest.user == rep
    changes = changes_of(latest)
    assert changes["state"] == ("Open", "Qualified")
    assert changes["status reason"] == ("New", "Qualified")
    assert changes["qualified account"] == (None, str(lead.qualified_account))
    assert changes["qualified opportunity"] == (None, str(lead.qualified_opportunity))
    assert changes["qualified by"] == (None, rep.get_full_name())
    # The records qualify created have their own trail, written by the same user.
    for record in (lead.qualified_account, lead.qualified_contact, lead.qualified_opportunity):
        (created,) = record.history.all()
        assert (created.history_type, created.history_user) == ("+", rep)


def test_disqualify_records_the_state_change(client_rep, rep):
    lead = LeadFactory(owner=rep)
    client_rep.post(reverse("leads:disqualify", args=[lead.pk]), {"reason": "cannot_contact"})
    latest = record_history(lead).entries[0]
    assert latest.user == rep
    changes = changes_of(latest)
    assert changes["state"] == ("Open", "Disqualified")
    assert changes["status reason"] == ("New", "Cannot Contact")


def test_qualified_lead_page_shows_its_whole_trail(client_rep, rep):
    client_rep.post(
        reverse("leads:create"),
        {
            "topic": "Rugged tablets",
            "last_name": "Fuller",
            "company_name": "Northwind",
            "rating": "warm",
            "status_reason": "new",
            "preferred_contact_method": "any",
        },
    )
    lead = Lead.objects.get()
    client_rep.post(reverse("leads:edit", args=[lead.pk]), lead_form(lead, topic="Tablets x40"))
    client_rep.post(reverse("leads:qualify", args=[lead.pk]))
    lead.refresh_from_db()
    assert lead.state == Lead.State.QUALIFIED

    section = history_section(client_rep.get(reverse("leads:detail", args=[lead.pk])))
    entries = re.findall(r'data-testid="history-entry".*?</li>', section, re.S)
    assert len(entries) == 3
    qualified, edited, created = entries
    assert "Changed" in qualified and "Qualified" in qualified and "Open" in qualified
    assert "Rugged tablets" in edited and "Tablets x40" in edited
    assert "Created" in created
    assert rep.get_full_name() in created


def test_account_contact_and_opportunity_edits_are_recorded(client_rep, rep):
    account = AccountFactory(owner=rep, name="Contoso")
    contact = ContactFactory(owner=rep, first_name="Nancy", last_name="Davolio", job_title="Buyer")
    opportunity = OpportunityFactory(owner=rep, account=account, name="Gloves")

    client_rep.post(reverse("accounts:edit", args=[account.pk]), {"name": "Contoso Ltd"})
    client_rep.post(
        reverse("accounts:contact_edit", args=[contact.pk]),
        {"first_name": "Nancy", "last_name": "Davolio", "job_title": "Head of Purchasing"},
    )
    client_rep.post(
        reverse("opportunities:edit", args=[opportunity.pk]),
        {"name": "Gloves x50", "account": account.pk, "currency": currency("USD").pk},
    )

    assert changes_of(record_history(account).entries[0])["name"] == ("Contoso", "Contoso Ltd")
    contact_change = record_history(contact).entries[0]
    assert changes_of(contact_change)["job title"] == ("Buyer", "Head of Purchasing")
    opportunity_change = record_history(opportunity).entries[0]
    assert changes_of(opportunity_change)["topic"] == ("Gloves", "Gloves x50")
    assert {e.user for e in (contact_change, opportunity_change)} == {rep}


def test_derived_keys_are_not_kept_in_history():
    history_fields = {f.name for f in Account.history.model._meta.fields}
    assert "name" in history_fields and "name_key" not in history_fields


def test_a_service_outside_a_request_names_the_user_explicitly(rep):
    lead = LeadFactory(owner=rep)
    lead.topic = "Renamed by an import"
    set_history_user(lead, rep)
    lead.save()
    assert lead.history.first().history_user == rep


# --- how it reads ---


def test_history_is_newest_first_with_created_last_and_names_for_foreign_keys(rep, rep2):
    lead = LeadFactory(owner=rep, currency=None)
    lead.owner = rep2
    lead.currency = currency("EUR")
    lead.do_not_call = True
    lead.save()

    latest, created = record_history(lead).entries
    assert (latest.kind, created.kind, created.changes) == ("Changed", "Created", [])
    assert changes_of(latest) == {
        "currency": (None, "EUR"),
        "do not call": ("No", "Yes"),
        "owner": (rep.get_full_name(), rep2.get_full_name()),
    }


def test_history_shows_the_latest_versions_and_says_there_are_more(rep):
    lead = LeadFactory(owner=rep, topic="v0")
    for n in range(1, 5):
        lead.topic = f"v{n}"
        lead.save()
    history = record_history(lead, limit=3)
    assert history.has_more
    assert [changes_of(e)["topic"] for e in history.entries] == [
        ("v3", "v4"),
        ("v2", "v3"),
        ("v1", "v2"),
    ]
    assert not record_history(lead, limit=5).has_more


def test_records_bulk_created_without_history_say_so(client_rep, rep):
    # seed_demo bulk-creates its records, which writes no history rows.
    (lead,) = Lead.objects.bulk_create([LeadFactory.build(owner=rep)])
    section = history_section(client_rep.get(reverse("leads:detail", args=[lead.pk])))
    assert 'data-testid="history-empty"' in section

    lead.topic = "First recorded change"
    lead.save()
    (entry,) = record_history(lead).entries
    assert (entry.kind, entry.compared, entry.changes) == ("Changed", False, [])
    section = history_section(client_rep.get(reverse("leads:detail", args=[lead.pk])))
    assert "earlier changes were not recorded" in section


def test_history_section_escapes_values(client_rep, rep):
    lead = LeadFactory(owner=rep, topic="<b>x</b>")
    client_rep.post(reverse("leads:edit", args=[lead.pk]), lead_form(lead, topic="<i>y</i>"))
    section = history_section(client_rep.get(reverse("leads:detail", args=[lead.pk])))
    assert "&lt;b&gt;x&lt;/b&gt;" in section and "&lt;i&gt;y&lt;/i&gt;" in section
    assert "<b>x</b>" not in section and "<i>y</i>" not in section


def test_history_section_is_a_collapsible_card_without_inline_script_or_style(client_rep, rep):
    lead = LeadFactory(owner=rep)
    section = history_section(client_rep.get(reverse("leads:detail", args=[lead.pk])))
    assert 'data-bs-toggle="collapse"' in section
    assert "<script" not in section and "style=" not in section


@pytest.mark.parametrize(
    ("name", "factory"),
    [
        ("accounts:detail", AccountFactory),
        ("accounts:contact_detail", ContactFactory),
        ("opportunities:detail", OpportunityFactory),
    ],
)
def test_every_record_page_has_a_history_section(client_rep, rep, name, factory):
    record = factory(owner=rep)
    section = history_section(client_rep.get(reverse(name, args=[record.pk])))
    assert "Created" in section


def _lead_with_history(owner, other, versions: int) -> Lead:
    """A lead whose every change touches text, a choice and two foreign keys."""
    lead = LeadFactory(owner=owner, currency=currency("USD"))
    for n in range(versions - 1):
        lead.topic = f"Version {n}"
        lead.rating = "hot" if n % 2 else "cold"
        lead.owner = other if n % 2 == 0 else owner
        lead.currency = currency("EUR" if n % 2 == 0 else "USD")
        lead.save()
    return lead


def test_history_section_costs_the_same_queries_for_2_or_60_versions(
    client_rep, rep, rep2, django_assert_max_num_queries
):
    short = _lead_with_history(rep, rep2, 2)
    long = _lead_with_history(rep, rep2, 60)
    assert (short.history.count(), long.history.count()) == (2, 60)

    counts, pages = [], []
    for lead in (short, long):
        with CaptureQueriesContext(connection) as queries:
            response = client_rep.get(reverse("leads:detail", args=[lead.pk]))
        assert response.status_code == 200
        counts.append(len(queries))
        pages.append(history_section(response))
    assert counts[0] == counts[1]
    assert pages[1].count('data-testid="history-entry"') == 50
    assert "latest 50" in pages[1] and "latest 50" not in pages[0]
    # The section alone: the versions with their authors, then users and currencies.
    with django_assert_max_num_queries(3):
        record_history(long)


# --- admin ---


@pytest.mark.parametrize(
    ("url_name", "factory"),
    [
        ("admin:leads_lead_history", LeadFactory),
        ("admin:accounts_account_history", AccountFactory),
        ("admin:accounts_contact_history", ContactFactory),
        ("admin:opportunities_opportunity_history", OpportunityFactory),
    ],
)
def test_admin_history_page_lists_versions(client, admin_user, url_name, factory):
    record = factory()
    record.description = "Changed in a test"
    record.save()
    client.force_login(admin_user)
    response = client.get(reverse(url_name, args=[record.pk]))
    assert response.status_code == 200
    assert "Changed in a test" in response.content.decode()
    # And each version opens as it was.
    first = record.history.earliest()
    version_url = url_name.replace("_history", "_simple_history")
    version = client.get(reverse(version_url, args=[record.pk, first.history_id]))
    assert version.status_code == 200


def test_admin_history_of_a_qualified_lead_answers(client, admin_user, rep):
    lead = LeadFactory(owner=rep)
    services.qualify_lead(lead=lead, user=rep)
    client.force_login(admin_user)
    response = client.get(f"/admin/leads/lead/{lead.pk}/history/")
    assert response.status_code == 200
    assert Opportunity.objects.filter(originating_lead=lead).exists()
