"""The lead pages' HTTP contract: status codes, redirects, messages and what changed."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import Account
from leads.models import Lead
from opportunities.models import Opportunity
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ConnectionFactory,
    ContactFactory,
    LeadFactory,
    NoteFactory,
    currency,
)

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def client_rep(client, rep):
    client.force_login(rep)
    return client


LEAD_URLS = ["detail", "edit"]
POST_ONLY = ["qualify", "disqualify", "reactivate", "delete"]


# --- login and methods ---


@pytest.mark.parametrize("name", ["list", "create"])
def test_pages_require_login(client, name):
    url = reverse(f"leads:{name}")
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith("/login/?next=")


@pytest.mark.parametrize("name", LEAD_URLS + POST_ONLY)
def test_lead_pages_require_login(client, name):
    lead = LeadFactory()
    response = client.post(reverse(f"leads:{name}", args=[lead.pk]))
    assert response.status_code == 302
    assert response.url.startswith("/login/")
    lead.refresh_from_db()
    assert lead.is_active


@pytest.mark.parametrize("name", POST_ONLY)
def test_state_changes_refuse_get(client_rep, rep, name):
    lead = LeadFactory(owner=rep)
    response = client_rep.get(reverse(f"leads:{name}", args=[lead.pk]))
    assert response.status_code == 405
    assert Lead.objects.filter(pk=lead.pk, state=Lead.State.OPEN).exists()


def test_bulk_qualify_refuses_get(client_rep):
    assert client_rep.get(reverse("leads:bulk_qualify")).status_code == 405


def test_unknown_lead_is_404(client_rep):
    assert client_rep.get(reverse("leads:detail", args=[999999])).status_code == 404


# --- list ---


def test_my_open_leads_is_the_default_view(client_rep, rep, rep2):
    mine = LeadFactory(owner=rep, topic="Mine and open")
    LeadFactory(owner=rep, topic="Mine but qualified", qualified=True)
    LeadFactory(owner=rep2, topic="Someone else's")
    response = client_rep.get(reverse("leads:list"))
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [mine]
    assert "My Open Leads" in response.content.decode()


@pytest.mark.parametrize(
    ("view", "expected"),
    [("open", {"a", "c"}), ("closed", {"b", "d"}), ("all", {"a", "b", "c", "d"})],
)
def test_view_switcher(client_rep, rep, rep2, view, expected):
    LeadFactory(owner=rep, topic="a")
    LeadFactory(owner=rep, topic="b", qualified=True)
    LeadFactory(owner=rep2, topic="c")
    LeadFactory(owner=rep2, topic="d", disqualified=True)
    response = client_rep.get(reverse("leads:list"), {"view": view})
    assert {lead.topic for lead in response.context["page"].object_list} == expected


@pytest.mark.parametrize(
    ("q", "field"),
    [
        ("zyxwv", "first_name"),
        ("zyxwv", "last_name"),
        ("zyxwv", "company_name"),
        ("zyxwv", "email"),
        ("zyxwv", "topic"),
    ],
)
def test_text_search_covers_name_company_email_topic(client_rep, rep, q, field):
    value = "zyxwv@example.com" if field == "email" else "Zyxwv"
    match = LeadFactory(owner=rep, **{field: value})
    LeadFactory(owner=rep)
    response = client_rep.get(reverse("leads:list"), {"view": "all", "q": q})
    assert list(response.context["page"].object_list) == [match]


def test_filters_by_status_source_rating_owner_and_dates(client_rep, rep, rep2):
    match = LeadFactory(owner=rep2, status_reason="contacted", lead_source="partner", rating="hot")
    LeadFactory(owner=rep2, status_reason="contacted", lead_source="partner", rating="cold")
    LeadFactory(owner=rep, status_reason="contacted", lead_source="partner", rating="hot")
    response = client_rep.get(
        reverse("leads:list"),
        {
            "view": "all",
            "status_reason": "contacted",
            "lead_source": "partner",
            "rating": "hot",
            "owner": rep2.pk,
            "created_after": "2000-01-01",
            "created_before": "2999-01-01",
        },
    )
    assert list(response.context["page"].object_list) == [match]
    response = client_rep.get(reverse("leads:list"), {"view": "all", "created_after": "2999-01-01"})
    assert list(response.context["page"].object_list) == []
    assert "No leads match these filters" in response.content.decode()


def test_bad_filter_values_do_not_crash(client_rep):
    response = client_rep.get(
        reverse("leads:list"),
        {
            "view": "nonsense",
            "rating": "scorching",
            "created_after": "yesterday",
            "page": "x",
            "sort": "password",
        },
    )
    assert response.status_code == 200


def test_sorting_by_a_column_both_ways(client_rep, rep):
    LeadFactory(owner=rep, topic="Bravo")
    LeadFactory(owner=rep, topic="Alpha")
    LeadFactory(owner=rep, topic="Charlie")
    up = client_rep.get(reverse("leads:list"), {"sort": "topic"})
    down = client_rep.get(reverse("leads:list"), {"sort": "-topic"})
    assert [x.topic for x in up.context["page"].object_list] == ["Alpha", "Bravo", "Charlie"]
    assert [x.topic for x in down.context["page"].object_list] == ["Charlie", "Bravo", "Alpha"]


def test_pagination_shows_50_a_page(client_rep, rep):
    # Keyset pagination: the Next link carries a cursor, not a page number.
    LeadFactory.create_batch(51, owner=rep)
    first = client_rep.get(reverse("leads:list"))
    second = client_rep.get(reverse("leads:list"), {"after": first.context["page"].next_cursor})
    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1
    assert "51–51" in second.content.decode()


def test_empty_state(client_rep):
    response = client_rep.get(reverse("leads:list"))
    assert 'data-testid="empty-state"' in response.content.decode()


@pytest.mark.parametrize("count", [5, 120])
def test_list_query_count_is_flat(client_rep, rep, rep2, count, django_assert_max_num_queries):
    LeadFactory.create_batch(count, owner=rep)
    LeadFactory.create_batch(3, owner=rep2)
    with django_assert_max_num_queries(12):
        response = client_rep.get(reverse("leads:list"), {"view": "all"})
    assert response.status_code == 200


# --- detail ---


def test_lead_page_shows_header_stage_bar_and_commands(client_rep, rep):
    lead = LeadFactory(owner=rep, topic="Rugged tablets", lead_source="trade_show", rating="hot")
    body = client_rep.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    for text in [
        "Rugged tablets",
        lead.full_name,
        lead.company_name,
        "Trade Show",
        "Hot",
        "New",
        "Qualify",
        "Disqualify",
        "Edit",
        "Delete",
        "stage-bar",
        "Purchase timeframe",
        "Identify decision maker",
    ]:
        assert text in body, text
    assert "Reactivate" not in body
    for reason in ["Lost", "Cannot Contact", "No Longer Interested", "Canceled"]:
        assert reason in body


@pytest.mark.parametrize("items", [0, 30])
@pytest.mark.parametrize("as_manager", [False, True])
def test_lead_page_runs_at_most_eleven_queries_whatever_its_timeline(
    client, rep, manager, items, as_manager, django_assert_max_num_queries
):
    """Session, user, lead, settings, role (groups and permissions in one), stage
    bar (stages, steps), timeline (notes, activities), stakeholders, history and
    the qualify dialog's currencies: eleven, with an empty timeline or a full
    page of notes, activities and stakeholders."""
    lead = LeadFactory(owner=rep)
    LeadFactory.create_batch(5, owner=rep)
    for i in range(items):
        NoteFactory(lead=lead, author=rep)
        ActivityFactory(lead=lead, owner=rep)
        if i < 5:
            ConnectionFactory(lead=lead)
    client.force_login(manager if as_manager else rep)
    with django_assert_max_num_queries(11):
        assert client.get(reverse("leads:detail", args=[lead.pk])).status_code == 200


@pytest.mark.parametrize("trait", ["qualified", "disqualified"])
def test_inactive_lead_page_is_read_only(client_rep, rep, trait):
    lead = LeadFactory(owner=rep, **{trait: True})
    body = client_rep.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'data-testid="readonly-banner"' in body
    assert "Reactivate" in body
    assert reverse("leads:edit", args=[lead.pk]) not in body
    assert reverse("leads:qualify", args=[lead.pk]) not in body
    assert reverse("leads:disqualify", args=[lead.pk]) not in body
    # No editable field: the only inputs are CSRF tokens in the Reactivate/Delete dialogs.
    import re

    inputs = re.findall(r"<(input|select|textarea)\b[^>]*>", body)
    names = re.findall(r"<(?:input|select|textarea)\b[^>]*name=\"([^\"]+)\"", body)
    assert set(names) <= {"csrfmiddlewaretoken"}, names
    assert len(inputs) == len(names)


def test_qualified_lead_banner_links_created_records(client_rep, rep):
    lead = LeadFactory(owner=rep)
    client_rep.post(reverse("leads:qualify", args=[lead.pk]))
    lead.refresh_from_db()
    body = client_rep.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert lead.qualified_opportunity.get_absolute_url() in body
    assert lead.qualified_account.get_absolute_url() in body
    assert lead.qualified_contact.get_absolute_url() in body


# --- create and edit ---


def test_create_lead(client_rep, rep):
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
    lead = Lead.objects.get()
    assert response.status_code == 302
    assert response.url == lead.get_absolute_url()
    assert lead.owner == rep and lead.rating == "hot" and lead.state == "open"
    assert "Lead “New CRM” created." in messages_of(response)


def test_create_lead_with_invalid_input_shows_errors_and_saves_nothing(client_rep):
    response = client_rep.post(
        reverse("leads:create"),
        {
            "topic": "",
            "email": "not-an-email",
            "budget_amount": "-5",
            "rating": "warm",
            "status_reason": "new",
            "preferred_contact_method": "any",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "topic" in errors and "email" in errors and "budget_amount" in errors
    assert Lead.objects.count() == 0


def test_create_lead_without_name_or_company_is_refused(client_rep):
    response = client_rep.post(
        reverse("leads:create"),
        {
            "topic": "Who?",
            "rating": "warm",
            "status_reason": "new",
            "preferred_contact_method": "any",
        },
    )
    assert response.status_code == 200
    assert "first or last name, or a company name" in response.content.decode()
    assert Lead.objects.count() == 0


def test_create_lead_picking_existing_contact_fills_empty_fields(client_rep):
    contact = ContactFactory(first_name="Nancy", last_name="Davolio", email="nancy@nw.example")
    response = client_rep.post(
        reverse("leads:create"),
        {
            "topic": "Expansion",
            "existing_contact": contact.pk,
            "rating": "warm",
            "status_reason": "new",
            "preferred_contact_method": "any",
        },
    )
    assert response.status_code == 302
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.email) == ("Nancy", "Davolio", "nancy@nw.example")


def test_edit_lead(client_rep, rep):
    lead = LeadFactory(owner=rep, topic="Old")
    response = client_rep.post(
        reverse("leads:edit", args=[lead.pk]),
        {
            "topic": "Updated",
            "first_name": lead.first_name,
            "last_name": lead.last_name,
            "company_name": lead.company_name,
            "email": lead.email,
            "rating": "cold",
            "status_reason": "contacted",
            "preferred_contact_method": "email",
        },
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.topic, lead.rating, lead.status_reason) == ("Updated", "cold", "contacted")


def test_edit_pickers_offer_only_duplicate_matches(client_rep, rep):
    match = AccountFactory(name="Fabrikam Inc")
    AccountFactory(name="Unrelated Ltd")
    lead = LeadFactory(owner=rep, company_name="fabrikam  inc")
    form = client_rep.get(reverse("leads:edit", args=[lead.pk])).context["form"]
    assert list(form.fields["existing_account"].queryset) == [match]


@pytest.mark.parametrize("trait", ["qualified", "disqualified"])
def test_edit_of_inactive_lead_changes_nothing(client_rep, rep, trait):
    lead = LeadFactory(owner=rep, topic="Frozen", **{trait: True})
    get = client_rep.get(reverse("leads:edit", args=[lead.pk]))
    post = client_rep.post(
        reverse("leads:edit", args=[lead.pk]), {"topic": "Thawed", "last_name": "X"}
    )
    for response in (get, post):
        assert response.status_code == 302
        assert response.url == lead.get_absolute_url()
    assert any("read-only" in m for m in messages_of(post))
    lead.refresh_from_db()
    assert lead.topic == "Frozen"


# --- qualify ---


def test_qualify_redirects_to_new_opportunity(client_rep, rep):
    lead = LeadFactory(owner=rep)
    response = client_rep.post(reverse("leads:qualify", args=[lead.pk]))
    opp = Opportunity.objects.get()
    assert response.status_code == 302 and response.url == opp.get_absolute_url()
    assert any(m.startswith("Lead qualified.") for m in messages_of(response))


def test_qualify_without_opportunity_redirects_to_lead(client_rep, rep, manual_qualify):
    lead = LeadFactory(owner=rep)
    response = client_rep.post(
        reverse("leads:qualify", args=[lead.pk]),
        {"create_account": "yes", "create_contact": "yes", "create_opportunity": "no"},
    )
    assert response.status_code == 302 and response.url == lead.get_absolute_url()
    lead.refresh_from_db()
    assert lead.state == "qualified"
    assert Opportunity.objects.count() == 0


def test_qualify_with_setting_no_asks_which_records(client_rep, rep, manual_qualify):
    lead = LeadFactory(owner=rep)
    response = client_rep.post(reverse("leads:qualify", args=[lead.pk]))
    assert response.status_code == 200
    assert "Create account?" in response.content.decode()
    lead.refresh_from_db()
    assert lead.is_active


def test_qualify_with_setting_no_uses_choices_and_currency(client_rep, rep, manual_qualify):
    lead = LeadFactory(owner=rep)
    from crm.models import Currency

    gbp = Currency.objects.get(code="GBP")
    client_rep.post(
        reverse("leads:qualify", args=[lead.pk]),
        {
            "create_account": "no",
            "create_contact": "yes",
            "create_opportunity": "yes",
            "currency": gbp.pk,
        },
    )
    opp = Opportunity.objects.get()
    assert opp.currency == gbp and opp.contact is not None and Account.objects.count() == 0


def test_qualify_shows_duplicate_warning_then_links_picked_account(client_rep, rep):
    existing = AccountFactory(name="Contoso Ltd")
    other = AccountFactory(name="contoso  LTD")
    lead = LeadFactory(owner=rep, company_name="Contoso Ltd")
    response = client_rep.post(reverse("leads:qualify", args=[lead.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="duplicate-warning"' in body
    assert existing.email in body and other.email in body
    lead.refresh_from_db()
    assert lead.is_active and Opportunity.objects.count() == 0

    response = client_rep.post(
        reverse("leads:qualify", args=[lead.pk]),
        {"resolved": "1", "existing_account": existing.pk, "existing_contact": ""},
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.qualified_account == existing
    assert Opportunity.objects.get().account == existing
    assert Account.objects.count() == 2


def test_duplicate_warning_continue_creates_new_records(client_rep, rep):
    AccountFactory(name="Contoso Ltd")
    lead = LeadFactory(owner=rep, company_name="Contoso Ltd")
    client_rep.post(
        reverse("leads:qualify", args=[lead.pk]),
        {"resolved": "1", "existing_account": "", "existing_contact": ""},
    )
    assert Account.objects.filter(name="Contoso Ltd").count() == 2


@pytest.mark.parametrize("name", ["qualify", "disqualify"])
@pytest.mark.parametrize("trait", ["qualified", "disqualified"])
def test_state_change_of_inactive_lead_changes_nothing(client_rep, rep, name, trait):
    lead = LeadFactory(owner=rep, **{trait: True})
    before = (lead.state, lead.status_reason)
    response = client_rep.post(reverse(f"leads:{name}", args=[lead.pk]), {"reason": "canceled"})
    assert response.status_code == 302
    assert any("read-only" in m for m in messages_of(response))
    lead.refresh_from_db()
    assert (lead.state, lead.status_reason) == before
    assert Opportunity.objects.count() == 0


# --- disqualify, reactivate, delete ---


def test_disqualify_with_reason(client_rep, rep):
    lead = LeadFactory(owner=rep)
    response = client_rep.post(
        reverse("leads:disqualify", args=[lead.pk]), {"reason": "no_longer_interested"}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.state, lead.status_reason) == ("disqualified", "no_longer_interested")
    assert "Lead disqualified: No Longer Interested." in messages_of(response)


@pytest.mark.parametrize("data", [{}, {"reason": ""}, {"reason": "qualified"}, {"reason": "x"}])
def test_disqualify_requires_a_valid_reason(client_rep, rep, data):
    lead = LeadFactory(owner=rep)
    response = client_rep.post(reverse("leads:disqualify", args=[lead.pk]), data)
    assert response.status_code == 302
    assert any("Choose a reason" in m for m in messages_of(response))
    lead.refresh_from_db()
    assert lead.is_active


def test_reactivate(client_rep, rep):
    lead = LeadFactory(owner=rep, disqualified=True)
    response = client_rep.post(reverse("leads:reactivate", args=[lead.pk]))
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.state, lead.status_reason, lead.owner) == ("open", "new", rep)


def test_reactivate_open_lead_says_why(client_rep, rep):
    lead = LeadFactory(owner=rep)
    response = client_rep.post(reverse("leads:reactivate", args=[lead.pk]))
    assert any("already open" in m for m in messages_of(response))


def test_delete(client_rep, rep):
    lead = LeadFactory(owner=rep)
    response = client_rep.post(reverse("leads:delete", args=[lead.pk]))
    assert response.status_code == 302 and response.url == reverse("leads:list")
    assert not Lead.objects.filter(pk=lead.pk).exists()


# --- bulk qualify ---


def test_bulk_qualify_reports_successes_and_each_failure(client_rep, rep):
    good = LeadFactory.create_batch(2, owner=rep)
    bad = LeadFactory(owner=rep, qualified=True, topic="Already done")
    response = client_rep.post(
        reverse("leads:bulk_qualify"),
        {"lead_ids": [good[0].pk, good[1].pk, bad.pk, "junk"], "next": "/leads/?view=all"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert len(response.context["succeeded"]) == 2
    assert [r.lead.pk for r, _ in response.context["failed"]] == [bad.pk]
    assert "Already done" in body and "already qualified" in body
    assert Opportunity.objects.count() == 2


def test_bulk_qualify_with_nothing_selected(client_rep):
    response = client_rep.post(reverse("leads:bulk_qualify"), {"next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == reverse("leads:list")
    assert "Select at least one lead to qualify." in messages_of(response)


def test_pagination_links_keep_filters(client_rep, rep):
    LeadFactory.create_batch(51, owner=rep, rating="hot")
    response = client_rep.get(reverse("leads:list"), {"rating": "hot"})
    cursor = response.context["page"].next_cursor
    assert f'href="?rating=hot&amp;after={cursor}"' in response.content.decode()


def test_lead_page_shows_a_budget_without_a_currency(client_rep, rep):
    """Currency is optional on a lead (generated demo leads have none)."""
    lead = LeadFactory(owner=rep, budget_amount=Decimal("1500.00"), currency=None)
    response = client_rep.get(lead.get_absolute_url())
    assert response.status_code == 200
    assert "1,500.00" in response.content.decode()


# --- 9/12: the qualify dialog's currency, bulk disqualify, bulk duplicates ---


def test_qualify_dialog_always_offers_the_currency_preset_to_the_leads(client_rep, rep):
    """Reference 004: the currency is chosen on every qualify, also when the
    organisation creates the records without asking."""
    lead = LeadFactory(owner=rep, currency=currency("GBP"), budget_amount=Decimal("184500"))
    response = client_rep.get(lead.get_absolute_url())
    form = response.context["qualify_form"]
    body = response.content.decode()
    assert list(form.fields) == ["currency"]  # the organisation creates all records
    assert form["currency"].value() == currency("GBP").pk
    assert f'<option value="{currency("GBP").pk}" selected>' in body
    assert 'data-testid="qualify-budget"' in body


def test_qualify_dialog_presets_the_default_currency_for_a_lead_without_one(
    client_rep, rep, org_settings
):
    org_settings.default_currency = currency("EUR")
    org_settings.save()
    lead = LeadFactory(owner=rep, currency=None)
    form = client_rep.get(lead.get_absolute_url()).context["qualify_form"]
    assert form["currency"].value() == currency("EUR").pk


def test_qualify_in_another_currency_converts_the_budget(client_rep, rep):
    lead = LeadFactory(owner=rep, currency=currency("GBP"), budget_amount=Decimal("184500"))
    client_rep.post(reverse("leads:qualify", args=[lead.pk]), {"currency": currency("JPY").pk})
    opportunity = Opportunity.objects.get()
    assert (opportunity.currency.code, opportunity.budget_amount) == ("JPY", Decimal("35031646"))


def test_qualify_with_an_unknown_currency_changes_nothing(client_rep, rep):
    lead = LeadFactory(owner=rep)
    response = client_rep.post(reverse("leads:qualify", args=[lead.pk]), {"currency": "99999"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    lead.refresh_from_db()
    assert lead.is_active and not Opportunity.objects.exists()


def test_qualify_with_no_customer_chosen_names_the_real_cause(client_rep, rep, manual_qualify):
    lead = LeadFactory(owner=rep)
    response = client_rep.post(
        reverse("leads:qualify", args=[lead.pk]),
        {"create_account": "no", "create_contact": "no", "create_opportunity": "yes"},
    )
    assert any("No customer was chosen for the opportunity" in m for m in messages_of(response))
    lead.refresh_from_db()
    assert lead.is_active


def test_edit_form_does_not_fill_from_a_picked_record(client_rep, rep):
    """Reference 004: picking an existing contact fills a new lead only."""
    lead = LeadFactory(owner=rep)
    edit = client_rep.get(reverse("leads:edit", args=[lead.pk])).content.decode()
    new = client_rep.get(reverse("leads:create")).content.decode()
    assert "data-fill-url" not in edit
    assert new.count("data-fill-url") == 2


def test_closed_leads_offer_no_bulk_actions(client_rep, rep):
    LeadFactory(owner=rep, qualified=True)
    body = client_rep.get(reverse("leads:list"), {"view": "closed"}).content.decode()
    assert 'data-testid="bulk-qualify"' not in body
    assert 'data-testid="bulk-disqualify"' not in body
    assert 'name="lead_ids"' not in body


def test_all_leads_offer_checkboxes_for_open_leads_only(client_rep, rep):
    open_lead = LeadFactory(owner=rep)
    closed = LeadFactory(owner=rep, disqualified=True)
    body = client_rep.get(reverse("leads:list"), {"view": "all"}).content.decode()
    assert f'name="lead_ids" value="{open_lead.pk}"' in body
    assert f'name="lead_ids" value="{closed.pk}"' not in body
    assert 'data-testid="bulk-disqualify"' in body


def test_bulk_disqualify_asks_the_reason_once_and_reports_each_lead(client_rep, rep, rep2):
    mine = LeadFactory.create_batch(2, owner=rep)
    done = LeadFactory(owner=rep, qualified=True, topic="Already qualified")
    theirs = LeadFactory(owner=rep2, topic="Someone else's")
    response = client_rep.post(
        reverse("leads:bulk_disqualify"),
        {"lead_ids": [m.pk for m in mine] + [done.pk, theirs.pk], "reason": "cannot_contact"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert [r.lead.pk for r in response.context["succeeded"]] == [m.pk for m in mine]
    assert {r.lead.pk for r, _ in response.context["failed"]} == {done.pk, theirs.pk}
    assert "2 of 4 leads disqualified" in " ".join(body.split()).replace("</strong>", "").replace(
        "<strong>", ""
    )
    for lead in mine:
        lead.refresh_from_db()
        assert (lead.state, lead.status_reason) == ("disqualified", "cannot_contact")
    theirs.refresh_from_db()
    assert theirs.is_active


@pytest.mark.parametrize("reason", ["", "qualified", "nonsense"])
def test_bulk_disqualify_without_a_valid_reason_changes_nothing(client_rep, rep, reason):
    lead = LeadFactory(owner=rep)
    response = client_rep.post(
        reverse("leads:bulk_disqualify"), {"lead_ids": [lead.pk], "reason": reason}
    )
    assert response.status_code == 302
    assert any("Choose a reason" in m for m in messages_of(response))
    lead.refresh_from_db()
    assert lead.is_active


def test_bulk_qualify_lists_duplicates_and_qualifies_them_once_resolved(client_rep, rep):
    contoso = AccountFactory(name="Contoso Ltd")
    clash = LeadFactory(owner=rep, company_name="Contoso Ltd", topic="Clash")
    fresh = LeadFactory(owner=rep, company_name="Unique Widgets", topic="Fresh")
    twin = LeadFactory(owner=rep, company_name="contoso ltd", topic="Twin")

    first = client_rep.post(
        reverse("leads:bulk_qualify"), {"lead_ids": [clash.pk, fresh.pk, twin.pk]}
    )
    body = first.content.decode()
    assert [r.lead for r in first.context["succeeded"]] == [fresh]
    assert [d["lead"] for d in first.context["duplicates"]] == [clash, twin]
    assert first.context["failed"] == []
    assert 'data-testid="bulk-duplicates"' in body
    assert f'name="existing_account_{clash.pk}" value="{contoso.pk}"' in body
    clash.refresh_from_db()
    assert clash.is_active

    # The rep links Clash to the match and creates a new account for Twin.
    second = client_rep.post(
        reverse("leads:bulk_qualify"),
        {
            "resolved": "1",
            "lead_ids": [clash.pk, twin.pk],
            f"existing_account_{clash.pk}": contoso.pk,
            f"existing_account_{twin.pk}": "",
        },
    )
    assert len(second.context["succeeded"]) == 2 and not second.context["duplicates"]
    clash.refresh_from_db()
    twin.refresh_from_db()
    assert clash.qualified_account == contoso
    assert clash.qualified_opportunity.account == contoso
    assert twin.qualified_account != contoso and twin.qualified_account.name == "contoso ltd"


def test_bulk_qualify_resolution_with_a_bad_pick_fails_that_lead_only(client_rep, rep):
    AccountFactory(name="Contoso Ltd")
    clash = LeadFactory(owner=rep, company_name="Contoso Ltd")
    response = client_rep.post(
        reverse("leads:bulk_qualify"),
        {"resolved": "1", "lead_ids": [clash.pk], f"existing_account_{clash.pk}": "12abc"},
    )
    assert response.status_code == 200
    [(result, reason)] = response.context["failed"]
    assert "no longer exists" in reason
    clash.refresh_from_db()
    assert clash.is_active


def test_bulk_qualify_carries_the_dialogs_answers_to_the_resolution(
    client_rep, rep, manual_qualify
):
    AccountFactory(name="Contoso Ltd")
    clash = LeadFactory(owner=rep, company_name="Contoso Ltd")
    response = client_rep.post(
        reverse("leads:bulk_qualify"),
        {
            "lead_ids": [clash.pk],
            "create_account": "yes",
            "create_contact": "no",
            "create_opportunity": "yes",
            "currency": currency("EUR").pk,
        },
    )
    assert response.context["options"] == {
        "create_account": "yes",
        "create_contact": "no",
        "create_opportunity": "yes",
        "currency": str(currency("EUR").pk),
    }
