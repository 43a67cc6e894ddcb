"""Stale or inactive references: every service that takes an account, a contact,
an owner or a currency reads it again in its transaction and refuses one that
is inactive or gone with ReferenceUnavailable (a form message), never a 500 and
never a record pointing at an inactive customer."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections
from django.urls import reverse

from accounts import services as account_services
from accounts.models import Account, Contact
from activities import services as activity_services
from activities.exceptions import RecordGone
from activities.models import Activity, Connection
from crm.models import Currency
from crm.references import ReferenceUnavailable
from leads import services as lead_services
from leads.models import Lead
from opportunities import services as opportunity_services
from opportunities.models import Opportunity
from tests.factories import (
    AccountFactory,
    ContactFactory,
    LeadFactory,
    ManagerFactory,
    OpportunityFactory,
    RepFactory,
    currency,
)
from tests.reference_data import restore_reference_data


def deactivate(record):
    type(record).objects.filter(pk=record.pk).update(is_active=False)
    return record  # the caller's copy still says active, as a stale form's would


def totals() -> tuple[int, int, int]:
    return Account.objects.count(), Contact.objects.count(), Opportunity.objects.count()


# --- Qualify -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["account", "contact"])
def test_a_crafted_qualify_post_cannot_link_an_inactive_record(client, rep, kind):
    lead = LeadFactory(owner=rep, company_name="Fabrikam", first_name="Ann", last_name="Lee")
    record = deactivate(AccountFactory() if kind == "account" else ContactFactory())
    before = totals()
    client.force_login(rep)
    response = client.post(
        reverse("leads:qualify", args=[lead.pk]), {f"existing_{kind}": record.pk}, follow=True
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "The lead was not qualified" in page
    assert f"is inactive; choose an active {kind}" in page
    assert totals() == before
    lead.refresh_from_db()
    assert lead.state == Lead.State.OPEN


@pytest.mark.django_db
def test_qualify_refuses_the_leads_own_existing_account_once_deactivated(rep):
    account = AccountFactory(name="Old Customer")
    lead = LeadFactory(owner=rep, existing_account=account)
    deactivate(account)
    with pytest.raises(ReferenceUnavailable) as refused:
        lead_services.qualify_lead(lead=lead, user=rep)
    assert refused.value.field == "existing_account"
    assert "“Old Customer” is inactive" in refused.value.text
    assert Opportunity.objects.count() == 0


@pytest.mark.django_db
def test_qualify_refuses_an_account_deleted_since_the_page_was_loaded(rep):
    lead = LeadFactory(owner=rep)
    account = AccountFactory()
    Account.objects.filter(pk=account.pk).delete()
    with pytest.raises(ReferenceUnavailable, match="no longer exists"):
        lead_services.qualify_lead(lead=lead, user=rep, existing_account=account)
    assert Opportunity.objects.count() == 0


@pytest.mark.django_db
def test_qualify_refuses_an_inactive_currency(rep):
    lead = LeadFactory(owner=rep)
    eur = currency("EUR")
    deactivate(eur)
    with pytest.raises(ReferenceUnavailable, match="currency “EUR” is inactive"):
        lead_services.qualify_lead(lead=lead, user=rep, currency=eur)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_qualify_into_an_account_being_deleted_at_the_same_moment():
    """The delete holds the account's row; the qualify waits for it, then finds the
    account gone and says so. Before the lock, the opportunity's foreign key
    failed at commit: an IntegrityError, a 500."""
    restore_reference_data()
    rep, manager = RepFactory(), ManagerFactory()
    lead = LeadFactory(owner=rep)
    account = AccountFactory(owner=rep)
    deleting = threading.Event()
    release = threading.Event()
    outcome: dict = {}

    def delete() -> None:
        from django.db import transaction

        try:
            with transaction.atomic():
                account_services.delete_account(account=account, user=manager)
                deleting.set()
                release.wait(10)
        finally:
            connections.close_all()

    def qualify() -> None:
        try:
            outcome["result"] = lead_services.qualify_lead(
                lead=Lead.objects.get(pk=lead.pk), user=rep, existing_account=account
            )
        except Exception as exc:  # noqa: BLE001 - the outcome is what we assert on
            outcome["result"] = exc
        finally:
            connections.close_all()

    deleter = threading.Thread(target=delete)
    deleter.start()
    assert deleting.wait(10)
    qualifier = threading.Thread(target=qualify)
    qualifier.start()
    time.sleep(0.5)  # the qualify is now waiting for the account's row
    assert "result" not in outcome
    release.set()
    deleter.join(10)
    qualifier.join(10)
    assert isinstance(outcome["result"], ReferenceUnavailable), outcome
    assert "no longer exists" in outcome["result"].text
    assert Opportunity.objects.count() == 0
    assert Lead.objects.get(pk=lead.pk).state == Lead.State.OPEN


# --- Lead create and edit ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["existing_account", "existing_contact", "currency"])
def test_create_lead_refuses_an_inactive_reference(rep, field):
    value = {
        "existing_account": AccountFactory,
        "existing_contact": ContactFactory,
        "currency": lambda: currency("EUR"),
    }[field]()
    deactivate(value)
    with pytest.raises(ReferenceUnavailable) as refused:
        lead_services.create_lead(user=rep, topic="T", last_name="N", **{field: value})
    assert refused.value.field == field
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_a_manager_cannot_give_a_lead_to_an_inactive_user(manager):
    former = RepFactory(is_active=False)
    with pytest.raises(ReferenceUnavailable, match="inactive"):
        lead_services.create_lead(user=manager, topic="T", last_name="N", owner=former)
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_editing_a_lead_keeps_a_reference_it_already_has(rep):
    account = AccountFactory()
    lead = LeadFactory(owner=rep, existing_account=account)
    deactivate(account)
    lead_services.update_lead(lead=lead, user=rep, topic="Renamed", existing_account=account)
    lead.refresh_from_db()
    assert (lead.topic, lead.existing_account_id) == ("Renamed", account.pk)
    other = deactivate(AccountFactory())
    with pytest.raises(ReferenceUnavailable):
        lead_services.update_lead(lead=lead, user=rep, existing_account=other)


@pytest.mark.django_db
def test_the_lead_form_shows_the_refusal_at_the_field(client, rep):
    account = deactivate(AccountFactory(name="Gone Ltd"))
    client.force_login(rep)
    response = client.post(
        reverse("leads:create"),
        {"topic": "T", "last_name": "N", "existing_account": account.pk},
    )
    assert response.status_code == 200
    assert not Lead.objects.exists()
    assert response.context["form"].errors.get("existing_account")


# --- Opportunities, contacts ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["account", "contact"])
def test_opportunity_create_refuses_an_inactive_customer(rep, kind):
    customer = deactivate(AccountFactory() if kind == "account" else ContactFactory())
    with pytest.raises(ReferenceUnavailable) as refused:
        opportunity_services.create_opportunity(
            user=rep, name="Deal", currency=currency(), **{kind: customer}
        )
    assert refused.value.field == kind
    assert not Opportunity.objects.exists()


@pytest.mark.django_db
def test_opportunity_update_refuses_a_new_inactive_account_but_keeps_its_own(rep):
    own = AccountFactory()
    opportunity = OpportunityFactory(owner=rep, account=own)
    deactivate(own)
    opportunity_services.update_opportunity(opportunity=opportunity, user=rep, name="Renamed")
    other = deactivate(AccountFactory())
    with pytest.raises(ReferenceUnavailable):
        opportunity_services.update_opportunity(opportunity=opportunity, user=rep, account=other)
    opportunity.refresh_from_db()
    assert (opportunity.name, opportunity.account_id) == ("Renamed", own.pk)


@pytest.mark.django_db
def test_contact_create_and_update_refuse_an_inactive_account(rep):
    account = deactivate(AccountFactory())
    with pytest.raises(ReferenceUnavailable):
        account_services.create_contact(user=rep, last_name="Lee", account=account)
    contact = ContactFactory(owner=rep)
    with pytest.raises(ReferenceUnavailable):
        account_services.update_contact(contact=contact, user=rep, account=account)
    contact.refresh_from_db()
    assert contact.account_id is None


# --- Timeline and stakeholders -------------------------------------------------------------


@pytest.mark.django_db
def test_stakeholder_contact_deactivated_since_the_page_loaded_is_refused(rep):
    lead = LeadFactory(owner=rep)
    contact = deactivate(ContactFactory())
    assert contact.is_active  # the caller's copy is stale
    with pytest.raises(ReferenceUnavailable, match="inactive"):
        activity_services.add_stakeholder(user=rep, record=lead, contact=contact)
    assert not Connection.objects.exists()


@pytest.mark.django_db
def test_stakeholder_contact_deleted_since_the_page_loaded_is_refused(rep):
    lead = LeadFactory(owner=rep)
    contact = ContactFactory()
    Contact.objects.filter(pk=contact.pk).delete()
    with pytest.raises(ReferenceUnavailable, match="no longer exists"):
        activity_services.add_stakeholder(user=rep, record=lead, contact=contact)


@pytest.mark.django_db
def test_an_activity_cannot_be_given_to_an_inactive_user(manager, rep):
    lead = LeadFactory(owner=rep)
    former = RepFactory(is_active=False)
    with pytest.raises(ReferenceUnavailable):
        activity_services.create_activity(
            user=manager, regarding=lead, type="task", subject="Call", owner=former
        )
    activity = activity_services.create_activity(
        user=manager, regarding=lead, type="task", subject="Call"
    )
    with pytest.raises(ReferenceUnavailable):
        activity_services.update_activity(activity=activity, user=manager, owner=former)
    assert Activity.objects.get().owner == manager


@pytest.mark.django_db
def test_a_note_on_a_record_deleted_a_moment_ago_is_refused(rep):
    lead = LeadFactory(owner=rep)
    Lead.objects.filter(pk=lead.pk).delete()
    with pytest.raises(RecordGone, match="no longer exists"):
        activity_services.create_note(user=rep, regarding=lead, text="Hello")


@pytest.mark.django_db
def test_currency_inactive_in_an_import_fails_the_row(client, rep, settings, tmp_path):
    from tests.imports.helpers import map_and_run, uploaded_job

    settings.MEDIA_ROOT = tmp_path
    currency("EUR")
    Currency.objects.filter(code="EUR").update(is_active=False)
    client.force_login(rep)
    job = map_and_run(client, uploaded_job(client, b"Topic,Last name,Currency\nA,B,EUR\nC,D,USD\n"))
    assert (job.imported, job.failed) == (1, 1)
    assert job.problems.get().reason == "Currency: 'EUR' is inactive."
