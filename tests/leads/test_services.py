"""The lead lifecycle services, rule by rule, as the SPEC states them."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Account, Contact
from crm import process
from crm.models import Currency
from leads import services
from leads.exceptions import (
    DuplicatesFound,
    InvalidReason,
    LeadChanged,
    LeadError,
    LeadNotInactive,
    LeadNotOpen,
    NothingToLinkOpportunityTo,
    QualifyOptionsRequired,
)
from leads.models import Lead
from opportunities.models import Opportunity
from tests.factories import AccountFactory, ContactFactory, LeadFactory, currency

pytestmark = pytest.mark.django_db


def counts():
    return (Account.objects.count(), Contact.objects.count(), Opportunity.objects.count())


# --- create_lead / update_lead -------------------------------------------------------------


def test_create_lead_starts_open_new_at_qualify_stage_owned_by_creator(rep):
    lead = services.create_lead(user=rep, topic="10 laptops", last_name="Fuller")

    lead.refresh_from_db()
    assert (lead.state, lead.status_reason) == (Lead.State.OPEN, Lead.StatusReason.NEW)
    assert lead.owner == rep
    assert lead.stage == process.first_lead_stage()
    assert lead.stage.name == "Qualify"
    assert lead.is_active


def test_create_lead_requires_topic_and_a_name_or_company(rep):
    with pytest.raises(ValidationError) as err:
        services.create_lead(user=rep, topic="", first_name="Ann")
    assert "topic" in err.value.message_dict
    with pytest.raises(ValidationError):
        services.create_lead(user=rep, topic="Widgets")
    assert Lead.objects.count() == 0


def test_create_lead_validates_email(rep):
    with pytest.raises(ValidationError) as err:
        services.create_lead(user=rep, topic="Widgets", last_name="Smith", email="not-an-email")
    assert "email" in err.value.message_dict
    assert not Lead.objects.exists()


def test_create_lead_refuses_closed_status_reason(rep):
    with pytest.raises(ValidationError):
        services.create_lead(user=rep, topic="Widgets", last_name="Smith", status_reason="lost")
    assert not Lead.objects.exists()


def test_create_lead_refuses_lifecycle_fields(rep):
    with pytest.raises(TypeError):
        services.create_lead(user=rep, topic="Widgets", last_name="Smith", state="qualified")


def test_create_lead_fills_empty_fields_from_existing_account_and_contact(rep):
    account = AccountFactory(name="Northwind Traders")
    contact = ContactFactory(
        first_name="Nancy",
        last_name="Davolio",
        job_title="Buyer",
        business_phone="+1 206 555 0101",
        mobile_phone="+1 206 555 0199",
        email="nancy@northwind.example",
        account=account,
    )
    lead = services.create_lead(
        user=rep,
        topic="Warehouse expansion",
        existing_account=account,
        existing_contact=contact,
        job_title="Head of Purchasing",  # already filled: kept
    )
    assert lead.company_name == "Northwind Traders"
    assert (lead.first_name, lead.last_name) == ("Nancy", "Davolio")
    assert lead.job_title == "Head of Purchasing"
    assert lead.business_phone == "+1 206 555 0101"
    assert lead.mobile_phone == "+1 206 555 0199"
    assert lead.email == "nancy@northwind.example"


def test_update_lead_does_not_fill_from_existing_contact(rep):
    lead = LeadFactory(owner=rep, email="", job_title="")
    contact = ContactFactory(email="someone@example.com", job_title="CTO")
    services.update_lead(lead=lead, user=rep, existing_contact=contact)
    lead.refresh_from_db()
    assert lead.existing_contact == contact
    assert lead.email == ""
    assert lead.job_title == ""


def test_update_lead_changes_open_lead(rep):
    lead = LeadFactory(owner=rep)
    services.update_lead(lead=lead, user=rep, topic="New topic", status_reason="contacted")
    lead.refresh_from_db()
    assert lead.topic == "New topic"
    assert lead.status_reason == Lead.StatusReason.CONTACTED


@pytest.mark.parametrize("trait", ["qualified", "disqualified"])
def test_update_lead_refuses_inactive_lead(rep, trait):
    lead = LeadFactory(owner=rep, **{trait: True})
    with pytest.raises(LeadNotOpen):
        services.update_lead(lead=lead, user=rep, topic="Changed")
    lead.refresh_from_db()
    assert lead.topic != "Changed"


def test_update_lead_with_invalid_data_saves_nothing(rep):
    lead = LeadFactory(owner=rep, topic="Original")
    with pytest.raises(ValidationError):
        services.update_lead(lead=lead, user=rep, topic="Changed", email="broken")
    lead.refresh_from_db()
    assert lead.topic == "Original"


@pytest.mark.parametrize("trait", ["qualified", "disqualified"])
def test_model_save_refuses_field_edit_of_inactive_lead(trait):
    lead = LeadFactory(**{trait: True})
    lead = Lead.objects.get(pk=lead.pk)
    lead.topic = "Sneaky edit"
    with pytest.raises(LeadNotOpen):
        lead.save()
    assert Lead.objects.get(pk=lead.pk).topic != "Sneaky edit"


def test_services_refuse_anonymous_user():
    lead = LeadFactory()
    with pytest.raises(PermissionDenied):
        services.qualify_lead(lead=lead, user=AnonymousUser())
    lead.refresh_from_db()
    assert lead.is_active


def test_all_refusals_share_one_base_class():
    for exc in (
        LeadNotOpen,
        LeadNotInactive,
        DuplicatesFound,
        QualifyOptionsRequired,
        InvalidReason,
        NothingToLinkOpportunityTo,
    ):
        assert issubclass(exc, LeadError)
        assert str(exc())


# --- qualify: which records -------------------------------------------------------------------


def test_qualify_with_setting_yes_creates_account_contact_and_opportunity(rep):
    lead = LeadFactory(
        owner=rep,
        topic="250 tablets",
        first_name="Priya",
        last_name="Patel",
        company_name="Tailspin Toys",
        job_title="Buyer",
        business_phone="+44 20 5550 1000",
        mobile_phone="+44 7700 900000",
        email="priya@tailspin.example",
        budget_amount=Decimal("120000.00"),
        currency=currency("EUR"),
        description="Needs rugged cases",
        purchase_timeframe="this_quarter",
    )
    result = services.qualify_lead(lead=lead, user=rep)

    assert result.error is None
    account, contact, opp = result.account, result.contact, result.opportunity
    assert account.name == "Tailspin Toys"
    assert (contact.first_name, contact.last_name, contact.job_title) == ("Priya", "Patel", "Buyer")
    assert contact.business_phone == "+44 20 5550 1000"
    assert contact.mobile_phone == "+44 7700 900000"
    assert contact.email == "priya@tailspin.example"
    assert contact.account == account
    assert opp.name == "250 tablets"
    # The opportunity links both, as Dynamics' Account and Contact; its customer is the account.
    assert (opp.account, opp.contact, opp.customer) == (account, contact, account)
    assert opp.currency.code == "EUR"
    assert opp.budget_amount == Decimal("120000.00")
    assert opp.description == "Needs rugged cases"
    assert opp.purchase_timeframe == "this_quarter"
    assert opp.originating_lead == lead
    assert opp.owner == rep
    assert opp.stage.name == "Develop"
    assert opp.state == Opportunity.State.OPEN

    lead.refresh_from_db()
    assert (lead.state, lead.status_reason) == (Lead.State.QUALIFIED, Lead.StatusReason.QUALIFIED)
    assert not lead.is_active
    assert lead.qualified_account == account
    assert lead.qualified_contact == contact
    assert lead.qualified_opportunity == opp
    assert lead.qualified_by == rep and lead.qualified_at is not None
    assert lead.stage.name == "Develop"


def test_qualify_updates_the_callers_instance(rep):
    lead = LeadFactory(owner=rep)
    services.qualify_lead(lead=lead, user=rep)
    assert lead.state == Lead.State.QUALIFIED
    assert lead.qualified_opportunity is not None


def test_qualify_with_setting_no_requires_options(rep, manual_qualify):
    lead = LeadFactory(owner=rep)
    with pytest.raises(QualifyOptionsRequired):
        services.qualify_lead(lead=lead, user=rep)
    with pytest.raises(QualifyOptionsRequired):
        services.qualify_lead(lead=lead, user=rep, create_account=True, create_contact=True)
    lead.refresh_from_db()
    assert lead.is_active
    assert counts() == (0, 0, 0)


def test_qualify_with_setting_no_creates_only_what_was_chosen(rep, manual_qualify):
    lead = LeadFactory(owner=rep)
    result = services.qualify_lead(
        lead=lead, user=rep, create_account=False, create_contact=True, create_opportunity=True
    )
    assert result.account is None
    assert result.contact is not None and result.contact.account is None
    assert result.opportunity.contact == result.contact
    assert result.opportunity.account is None
    assert counts() == (0, 1, 1)


def test_qualify_with_setting_yes_honours_explicit_no(rep):
    lead = LeadFactory(owner=rep)
    result = services.qualify_lead(lead=lead, user=rep, create_contact=False)
    assert result.contact is None
    assert result.account is not None and result.opportunity is not None
    assert counts() == (1, 0, 1)


def test_qualify_creates_account_only_when_lead_has_company_name(rep):
    lead = LeadFactory(owner=rep, company_name="")
    result = services.qualify_lead(lead=lead, user=rep)
    assert result.account is None
    assert result.contact is not None
    assert result.opportunity.contact == result.contact
    assert Account.objects.count() == 0


def test_qualify_creates_contact_only_when_lead_has_a_persons_name(rep):
    lead = LeadFactory(
        owner=rep,
        first_name="",
        last_name="",
        company_name="Fabrikam",
        email="info@fabrikam.example",
    )
    result = services.qualify_lead(lead=lead, user=rep)
    assert result.contact is None
    assert result.account.name == "Fabrikam"
    assert Contact.objects.count() == 0


def test_qualify_contact_is_linked_to_existing_account(rep):
    account = AccountFactory(name="Contoso")
    lead = LeadFactory(owner=rep, company_name="Contoso", existing_account=account)
    result = services.qualify_lead(lead=lead, user=rep)
    assert result.account is None  # nothing new: the existing one is used
    assert result.contact.account == account
    assert result.opportunity.account == account
    lead.refresh_from_db()
    assert lead.qualified_account == account
    assert Account.objects.count() == 1


# --- qualify: opportunity customer and currency -----------------------------------------------


def test_opportunity_customer_prefers_existing_account_over_new_account(rep):
    existing = AccountFactory(name="Existing Co")
    lead = LeadFactory(owner=rep, company_name="Brand New Co")
    result = services.qualify_lead(lead=lead, user=rep, existing_account=existing)
    assert result.opportunity.account == existing
    assert result.account is None


def test_existing_contact_without_an_account_gets_a_new_account_and_both_are_linked(rep):
    contact = ContactFactory(account=None)
    lead = LeadFactory(owner=rep, company_name="Brand New Co", existing_contact=contact)
    result = services.qualify_lead(lead=lead, user=rep)
    assert result.account.name == "Brand New Co"
    assert result.contact is None  # the existing contact is linked, not copied
    assert (result.opportunity.account, result.opportunity.contact) == (result.account, contact)
    assert result.opportunity.customer == result.account


def test_existing_contacts_own_account_wins_over_a_new_one(rep):
    """Reference 003: the existing customer defined for the lead is the customer;
    the company name does not make a second account for the contact's company."""
    contact = ContactFactory(account=AccountFactory())
    lead = LeadFactory(owner=rep, company_name="Contoso Pharmaceuticals", existing_contact=contact)
    before = counts()
    result = services.qualify_lead(lead=lead, user=rep)
    assert result.account is None and result.contact is None
    opportunity = result.opportunity
    assert (opportunity.account, opportunity.contact) == (contact.account, contact)
    assert opportunity.customer == contact.account
    lead.refresh_from_db()
    assert (lead.qualified_account, lead.qualified_contact) == (contact.account, contact)
    assert counts() == (before[0], before[1], before[2] + 1)


def test_chosen_account_wins_over_the_contacts_own(rep):
    chosen = AccountFactory()
    contact = ContactFactory(account=AccountFactory())
    lead = LeadFactory(owner=rep, existing_account=chosen, existing_contact=contact)
    result = services.qualify_lead(lead=lead, user=rep)
    assert (result.opportunity.account, result.opportunity.contact) == (chosen, contact)


def test_existing_contacts_inactive_account_is_not_used(rep):
    contact = ContactFactory(account=AccountFactory(is_active=False))
    lead = LeadFactory(owner=rep, company_name="Fresh Start Ltd", existing_contact=contact)
    result = services.qualify_lead(lead=lead, user=rep)
    assert result.account.name == "Fresh Start Ltd"
    assert result.opportunity.account == result.account


def test_new_contact_joins_the_existing_account(rep):
    account = AccountFactory()
    lead = LeadFactory(owner=rep, existing_account=account, last_name="Fuller")
    result = services.qualify_lead(lead=lead, user=rep)
    assert result.contact.account == account
    assert (result.opportunity.account, result.opportunity.contact) == (account, result.contact)


def test_opportunity_customer_is_existing_contact_when_no_account(rep):
    contact = ContactFactory(account=None)
    lead = LeadFactory(owner=rep, company_name="", existing_contact=contact)
    result = services.qualify_lead(lead=lead, user=rep)
    assert result.contact is None
    assert result.opportunity.contact == contact
    assert result.opportunity.account is None


def test_opportunity_customer_is_new_contact_as_last_resort(rep):
    lead = LeadFactory(owner=rep, company_name="")
    result = services.qualify_lead(lead=lead, user=rep)
    assert result.opportunity.contact == result.contact


def test_qualify_raises_nothing_to_link_and_changes_nothing(rep, manual_qualify):
    lead = LeadFactory(owner=rep)
    with pytest.raises(NothingToLinkOpportunityTo) as refused:
        services.qualify_lead(
            lead=lead, user=rep, create_account=False, create_contact=False, create_opportunity=True
        )
    # The real cause: no customer was chosen, not a missing company or name.
    assert refused.value.message.startswith("No customer was chosen for the opportunity")
    assert "company" not in refused.value.message
    lead.refresh_from_db()
    assert lead.is_active
    assert counts() == (0, 0, 0)


def test_nothing_to_link_names_the_missing_company(rep, manual_qualify):
    lead = LeadFactory(owner=rep, company_name="")
    with pytest.raises(NothingToLinkOpportunityTo) as refused:
        services.qualify_lead(
            lead=lead, user=rep, create_account=True, create_contact=False, create_opportunity=True
        )
    assert "no company name to create an account from" in refused.value.message
    assert counts() == (0, 0, 0)


def test_currency_given_wins(rep):
    lead = LeadFactory(owner=rep, currency=currency("GBP"))
    result = services.qualify_lead(lead=lead, user=rep, currency=currency("JPY"))
    assert result.opportunity.currency.code == "JPY"


def test_budget_is_converted_not_relabelled(rep):
    """GBP 184,500 as JPY at the example rates (GBP 0.79, JPY 150 per USD)."""
    lead = LeadFactory(owner=rep, currency=currency("GBP"), budget_amount=Decimal("184500"))
    result = services.qualify_lead(lead=lead, user=rep, currency=currency("JPY"))
    # 184,500 / 0.79 * 150 = 35,031,645.57…, and the yen has no decimals.
    assert result.opportunity.budget_amount == Decimal("35031646")
    lead.refresh_from_db()
    assert lead.budget_amount == Decimal("184500")  # the lead keeps its own figure


def test_budget_in_the_same_currency_is_kept(rep):
    lead = LeadFactory(owner=rep, currency=currency("GBP"), budget_amount=Decimal("184500.00"))
    result = services.qualify_lead(lead=lead, user=rep, currency=currency("GBP"))
    assert result.opportunity.budget_amount == Decimal("184500.00")


def test_budget_follows_the_admins_exchange_rate(rep):
    eur = currency("EUR")
    eur.exchange_rate = Decimal("0.5")
    eur.save()
    lead = LeadFactory(owner=rep, currency=currency("USD"), budget_amount=Decimal("1000"))
    result = services.qualify_lead(lead=lead, user=rep, currency=eur)
    assert result.opportunity.budget_amount == Decimal("500.00")


def test_currency_falls_back_to_the_leads(rep):
    lead = LeadFactory(owner=rep, currency=currency("GBP"))
    result = services.qualify_lead(lead=lead, user=rep)
    assert result.opportunity.currency.code == "GBP"


def test_currency_falls_back_to_organisation_default(rep, org_settings):
    org_settings.default_currency = Currency.objects.get(code="EUR")
    org_settings.save()
    lead = LeadFactory(owner=rep, currency=None)
    result = services.qualify_lead(lead=lead, user=rep)
    assert result.opportunity.currency.code == "EUR"


def test_qualify_without_opportunity_keeps_stage_at_qualify(rep):
    lead = LeadFactory(owner=rep)
    result = services.qualify_lead(lead=lead, user=rep, create_opportunity=False)
    assert result.opportunity is None
    lead.refresh_from_db()
    assert lead.state == Lead.State.QUALIFIED
    assert lead.stage.name == "Qualify"
    assert lead.qualified_opportunity is None
    assert Opportunity.objects.count() == 0


@pytest.mark.parametrize("trait", ["qualified", "disqualified"])
def test_qualify_refuses_inactive_lead(rep, trait):
    lead = LeadFactory(owner=rep, **{trait: True})
    with pytest.raises(LeadNotOpen):
        services.qualify_lead(lead=lead, user=rep)
    assert counts() == (0, 0, 0)


def test_qualify_twice_refuses_second_time(rep):
    lead = LeadFactory(owner=rep)
    services.qualify_lead(lead=lead, user=rep)
    with pytest.raises(LeadNotOpen):
        services.qualify_lead(lead=lead, user=rep)
    assert counts() == (1, 1, 1)


# --- qualify: duplicate detection ----------------------------------------------------------------


@pytest.mark.parametrize("company", ["contoso ltd", "  CONTOSO   Ltd ", "Contoso\tLTD"])
def test_duplicate_account_name_ignores_case_and_whitespace(rep, company):
    existing = AccountFactory(name="Contoso Ltd")
    lead = LeadFactory(owner=rep, company_name=company)
    with pytest.raises(DuplicatesFound) as err:
        services.qualify_lead(lead=lead, user=rep)
    assert err.value.accounts == [existing]
    assert err.value.contacts == []
    lead.refresh_from_db()
    assert lead.is_active
    assert counts() == (1, 0, 0)


def test_duplicate_contact_by_email_ignores_case(rep):
    existing = ContactFactory(email="Nancy.Davolio@Northwind.example")
    lead = LeadFactory(owner=rep, company_name="", email="nancy.davolio@NORTHWIND.example")
    with pytest.raises(DuplicatesFound) as err:
        services.qualify_lead(lead=lead, user=rep)
    assert err.value.contacts == [existing]
    assert counts() == (0, 1, 0)


def test_duplicate_contact_by_first_and_last_name(rep):
    existing = ContactFactory(first_name="Nancy", last_name="Davolio", email="a@example.com")
    lead = LeadFactory(
        owner=rep, company_name="", first_name="nancy", last_name="DAVOLIO", email="b@example.com"
    )
    with pytest.raises(DuplicatesFound) as err:
        services.qualify_lead(lead=lead, user=rep)
    assert err.value.contacts == [existing]


def test_same_last_name_only_is_not_a_duplicate(rep):
    ContactFactory(first_name="Andrew", last_name="Davolio", email="a@example.com")
    lead = LeadFactory(
        owner=rep, company_name="", first_name="Nancy", last_name="Davolio", email="b@example.com"
    )
    result = services.qualify_lead(lead=lead, user=rep)
    assert result.contact is not None


def test_duplicates_found_then_succeeds_with_existing_account(rep):
    existing = AccountFactory(name="Contoso Ltd")
    lead = LeadFactory(owner=rep, company_name="CONTOSO LTD")
    with pytest.raises(DuplicatesFound):
        services.qualify_lead(lead=lead, user=rep)

    result = services.qualify_lead(lead=lead, user=rep, existing_account=existing)
    assert result.account is None
    assert result.opportunity.account == existing
    assert result.contact.account == existing
    assert Account.objects.count() == 1
    lead.refresh_from_db()
    assert lead.qualified_account == existing


def test_duplicates_found_then_succeeds_with_existing_contact(rep):
    existing = ContactFactory(email="nancy@example.com")
    lead = LeadFactory(owner=rep, company_name="", email="NANCY@example.com")
    with pytest.raises(DuplicatesFound):
        services.qualify_lead(lead=lead, user=rep)
    result = services.qualify_lead(lead=lead, user=rep, existing_contact=existing)
    assert result.contact is None
    assert result.opportunity.contact == existing
    assert Contact.objects.count() == 1


def test_duplicates_found_then_succeeds_with_ignore_duplicates(rep):
    AccountFactory(name="Contoso Ltd")
    lead = LeadFactory(owner=rep, company_name="Contoso Ltd")
    with pytest.raises(DuplicatesFound):
        services.qualify_lead(lead=lead, user=rep)
    result = services.qualify_lead(lead=lead, user=rep, ignore_duplicates=True)
    assert result.account is not None
    assert Account.objects.filter(name="Contoso Ltd").count() == 2


def test_duplicate_detection_can_be_turned_off(rep, org_settings):
    org_settings.duplicate_detection_enabled = False
    org_settings.save()
    AccountFactory(name="Contoso Ltd")
    lead = LeadFactory(owner=rep, company_name="Contoso Ltd")
    result = services.qualify_lead(lead=lead, user=rep)
    assert result.account is not None


def test_duplicates_are_only_checked_for_records_being_created(rep):
    AccountFactory(name="Contoso Ltd")
    lead = LeadFactory(owner=rep, company_name="Contoso Ltd")
    result = services.qualify_lead(lead=lead, user=rep, create_account=False)
    assert result.account is None
    assert result.opportunity.contact == result.contact


# --- atomicity ---


def test_failure_while_creating_opportunity_leaves_no_partial_records(rep, monkeypatch):
    lead = LeadFactory(owner=rep)

    def explode(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_create_opportunity_from", explode)
    with pytest.raises(RuntimeError):
        services.qualify_lead(lead=lead, user=rep)
    assert counts() == (0, 0, 0)
    lead.refresh_from_db()
    assert lead.is_active
    assert lead.qualified_account is None


# --- disqualify ---


@pytest.mark.parametrize("reason", ["lost", "cannot_contact", "no_longer_interested", "canceled"])
def test_disqualify_with_each_reason(rep, reason):
    lead = LeadFactory(owner=rep)
    services.disqualify_lead(lead=lead, user=rep, reason=reason)
    lead.refresh_from_db()
    assert lead.state == Lead.State.DISQUALIFIED
    assert lead.status_reason == reason
    assert lead.disqualified_by == rep and lead.disqualified_at is not None
    assert not lead.is_active
    assert Lead.objects.filter(pk=lead.pk).exists()


@pytest.mark.parametrize("reason", ["qualified", "new", "contacted", "bogus", ""])
def test_disqualify_refuses_invalid_reason(rep, reason):
    lead = LeadFactory(owner=rep)
    with pytest.raises(InvalidReason):
        services.disqualify_lead(lead=lead, user=rep, reason=reason)
    lead.refresh_from_db()
    assert lead.is_active


@pytest.mark.parametrize("trait", ["qualified", "disqualified"])
def test_disqualify_refuses_inactive_lead(rep, trait):
    lead = LeadFactory(owner=rep, **{trait: True})
    before = lead.status_reason
    with pytest.raises(LeadNotOpen):
        services.disqualify_lead(lead=lead, user=rep, reason="canceled")
    lead.refresh_from_db()
    assert lead.status_reason == before


# --- reactivate ---


def test_reactivate_qualified_lead_keeps_owner_and_links(rep, manager):
    lead = LeadFactory(owner=rep)
    result = services.qualify_lead(lead=lead, user=rep)
    services.reactivate_lead(lead=lead, user=manager)
    lead.refresh_from_db()
    assert (lead.state, lead.status_reason) == (Lead.State.OPEN, Lead.StatusReason.NEW)
    assert lead.is_active
    assert lead.owner == rep
    assert lead.qualified_account == result.account
    assert lead.qualified_contact == result.contact
    assert lead.qualified_opportunity == result.opportunity
    assert lead.stage.name == "Qualify"
    # Editable again.
    services.update_lead(lead=lead, user=rep, topic="Back in play")
    assert Lead.objects.get(pk=lead.pk).topic == "Back in play"


def test_reactivate_disqualified_lead(rep):
    lead = LeadFactory(owner=rep)
    services.disqualify_lead(lead=lead, user=rep, reason="cannot_contact")
    services.reactivate_lead(lead=lead, user=rep)
    lead.refresh_from_db()
    assert (lead.state, lead.status_reason) == (Lead.State.OPEN, Lead.StatusReason.NEW)
    assert lead.owner == rep
    assert Lead.objects.filter(owner=rep, state=Lead.State.OPEN).filter(pk=lead.pk).exists()


def test_reactivate_refuses_open_lead(rep):
    lead = LeadFactory(owner=rep, status_reason="contacted")
    with pytest.raises(LeadNotInactive):
        services.reactivate_lead(lead=lead, user=rep)
    lead.refresh_from_db()
    assert lead.status_reason == Lead.StatusReason.CONTACTED


# --- bulk qualify ---


def test_bulk_qualify_reports_each_outcome_and_does_not_stop_on_failure(rep):
    good1 = LeadFactory(owner=rep)
    already = LeadFactory(owner=rep, qualified=True)
    AccountFactory(name="Duplicate Co")
    duplicate = LeadFactory(owner=rep, company_name="duplicate co")
    good2 = LeadFactory(owner=rep)

    results = services.qualify_leads(leads=[good1, already, duplicate, good2], user=rep)

    assert [r.lead.pk for r in results] == [good1.pk, already.pk, duplicate.pk, good2.pk]
    assert [r.error is None for r in results] == [True, False, False, True]
    assert isinstance(results[1].error, LeadNotOpen)
    assert isinstance(results[2].error, DuplicatesFound)
    assert results[0].opportunity is not None and results[3].opportunity is not None
    assert Opportunity.objects.count() == 2
    duplicate.refresh_from_db()
    assert duplicate.is_active


def test_bulk_qualify_passes_options_to_each_lead(rep, manual_qualify):
    leads = LeadFactory.create_batch(3, owner=rep)
    results = services.qualify_leads(
        leads=leads, user=rep, create_account=True, create_contact=False, create_opportunity=False
    )
    assert all(r.ok for r in results)
    assert counts() == (3, 0, 0)


# --- qualify: cost ------------------------------------------------------------------------------


def test_qualify_lead_statement_count_stays_low(rep, django_assert_max_num_queries):
    """Lock (which also says whether there are stakeholders to carry, and joins
    the lead's currency); settings; the flows' stages (where the lead's flow
    starts opportunities, which stages have required steps); one probe for
    duplicates; account, contact and opportunity inserts, each with its history
    row; the lead update and its history row: 12, plus the savepoint pair the
    service's transaction becomes inside the test's own transaction."""
    lead = LeadFactory(owner=rep)
    # Plus one: the webhook endpoints, read once per process into the cache (cold here).
    with django_assert_max_num_queries(14 + 1):
        result = services.qualify_lead(lead=lead, user=rep)
    assert result.opportunity.stage.name == "Develop"
    lead.refresh_from_db()
    assert lead.stage.name == "Develop"


def test_bulk_qualify_reads_settings_once(rep, django_assert_max_num_queries):
    leads = LeadFactory.create_batch(3, owner=rep)
    # The settings and the flows once, the batch's transaction (a savepoint pair
    # inside the test's), the webhook endpoints' cache filled once, then per lead
    # what one qualify costs without them.
    with django_assert_max_num_queries(2 + 2 + 1 + 3 * 12):
        results = services.qualify_leads(leads=leads, user=rep)
    assert all(r.ok for r in results)
    assert Opportunity.objects.filter(originating_lead__in=leads).count() == 3


# --- who may change a lead ----------------------------------------------------------------------


def _other_reps_lead_actions(lead):
    return {
        "update": lambda user: services.update_lead(lead=lead, user=user, topic="Taken over"),
        "qualify": lambda user: services.qualify_lead(lead=lead, user=user),
        "disqualify": lambda user: services.disqualify_lead(lead=lead, user=user, reason="lost"),
        "delete": lambda user: services.delete_lead(lead=lead, user=user),
    }


@pytest.mark.parametrize("action", ["update", "qualify", "disqualify", "delete"])
def test_a_rep_cannot_change_another_reps_lead(rep, rep2, action):
    lead = LeadFactory(owner=rep, topic="Mine")
    with pytest.raises(PermissionDenied, match="Only the owner or a sales manager|may not delete"):
        _other_reps_lead_actions(lead)[action](rep2)
    lead.refresh_from_db()
    assert (lead.topic, lead.state) == ("Mine", Lead.State.OPEN)
    assert counts() == (0, 0, 0)


def test_a_rep_cannot_reactivate_another_reps_lead(rep, rep2):
    lead = LeadFactory(owner=rep, disqualified=True)
    with pytest.raises(PermissionDenied):
        services.reactivate_lead(lead=lead, user=rep2)
    lead.refresh_from_db()
    assert lead.state == Lead.State.DISQUALIFIED


@pytest.mark.parametrize("action", ["update", "qualify", "disqualify", "delete"])
def test_a_manager_changes_a_reps_lead(rep, manager, action):
    lead = LeadFactory(owner=rep, topic="Mine")
    _other_reps_lead_actions(lead)[action](manager)
    assert not Lead.objects.filter(pk=lead.pk, topic="Mine", state=Lead.State.OPEN).exists()


def test_only_a_manager_reassigns_a_lead(rep, rep2, manager):
    lead = LeadFactory(owner=rep)
    with pytest.raises(PermissionDenied, match="Only a sales manager can assign"):
        services.update_lead(lead=lead, user=rep, owner=rep2)
    with pytest.raises(PermissionDenied, match="Only a sales manager can assign"):
        services.create_lead(user=rep, topic="For Sam", last_name="Doe", owner=rep2)
    assert Lead.objects.filter(owner=rep2).count() == 0
    services.update_lead(lead=lead, user=manager, owner=rep2)
    lead.refresh_from_db()
    assert lead.owner == rep2


def test_update_with_a_stale_version_raises_lead_changed_and_saves_nothing(rep):
    lead = LeadFactory(owner=rep, topic="Original")
    loaded_at = lead.modified_at
    services.update_lead(lead=lead, user=rep, expected_modified_at=loaded_at, topic="First")
    with pytest.raises(LeadChanged, match="Someone else changed this lead"):
        services.update_lead(lead=lead, user=rep, expected_modified_at=loaded_at, topic="Second")
    lead.refresh_from_db()
    assert lead.topic == "First"


def test_bulk_qualify_answers_in_the_order_given_and_keeps_failures_to_their_lead(rep):
    leads = LeadFactory.create_batch(4, owner=rep)
    refused = LeadFactory(owner=rep, disqualified=True)
    given = [leads[3], refused, leads[1], leads[0], leads[2]]

    results = services.qualify_leads(leads=given, user=rep, ignore_duplicates=True)

    assert [r.lead.pk for r in results] == [lead.pk for lead in given]
    assert [r.ok for r in results] == [True, False, True, True, True]
    assert Opportunity.objects.filter(originating_lead__in=leads).count() == 4
    refused.refresh_from_db()
    assert refused.state == Lead.State.DISQUALIFIED


def test_bulk_qualify_undoes_only_the_lead_whose_qualify_failed_in_the_database(rep, monkeypatch):
    leads = LeadFactory.create_batch(3, owner=rep)
    original_save = Opportunity.save

    def failing_save(self, *args, **kwargs):
        if self.originating_lead_id == leads[1].pk:
            # A real statement error, so the database itself must recover at the savepoint.
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM no_such_table")
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(Opportunity, "save", failing_save)
    results = services.qualify_leads(leads=leads, user=rep, ignore_duplicates=True)

    assert [r.ok for r in results] == [True, False, True]
    failed = Lead.objects.get(pk=leads[1].pk)
    assert failed.state == Lead.State.OPEN and failed.qualified_account_id is None
    assert Account.objects.filter(name=leads[1].company_name).count() == 0
    assert Opportunity.objects.count() == 2
