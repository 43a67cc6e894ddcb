"""Opportunity pages: the HTTP contract of every URL, the stage bar actions,
closing and reopening."""

import datetime
from decimal import Decimal

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages
from django.urls import reverse

from crm import process
from opportunities import services
from opportunities.models import Opportunity
from tests.factories import (
    AccountFactory,
    ContactFactory,
    LeadFactory,
    NoteFactory,
    OpportunityFactory,
    currency,
)

pytestmark = pytest.mark.django_db

POST_ONLY = ("next_stage", "previous_stage", "close", "reopen")


def _messages(response) -> list[tuple[int, str]]:
    return [(m.level, str(m)) for m in get_messages(response.wsgi_request)]


def _errors(response) -> list[str]:
    return [text for level, text in _messages(response) if level == messages.ERROR]


def _stage_names() -> list[str]:
    return [s.name for s in process.opportunity_stages()]


@pytest.fixture
def account(rep):
    return AccountFactory(owner=rep, name="Contoso Pharmaceuticals")


@pytest.fixture
def opportunity(rep, account):
    return OpportunityFactory(
        owner=rep,
        account=account,
        name="50 pallets of gloves",
        estimated_revenue=Decimal("12500.00"),
        budget_amount=Decimal("15000.00"),
    )


def _url(name: str, opportunity) -> str:
    return reverse(f"opportunities:{name}", args=[opportunity.pk])


def _form_data(**changes) -> dict:
    data = {"name": "Office chairs", "currency": currency("USD").pk}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _closed(opportunity, user, won=True) -> Opportunity:
    return services.close_opportunity(opportunity=opportunity, user=user, won=won)


# --- URLs and access ----------------------------------------------------------------------


def test_url_paths_match_the_interface_contract():
    assert reverse("opportunities:list") == "/opportunities/"
    assert reverse("opportunities:create") == "/opportunities/new/"
    assert reverse("opportunities:detail", args=[3]) == "/opportunities/3/"
    assert reverse("opportunities:edit", args=[3]) == "/opportunities/3/edit/"
    assert reverse("opportunities:next_stage", args=[3]) == "/opportunities/3/next-stage/"
    assert reverse("opportunities:previous_stage", args=[3]) == "/opportunities/3/previous-stage/"
    assert reverse("opportunities:close", args=[3]) == "/opportunities/3/close/"
    assert reverse("opportunities:reopen", args=[3]) == "/opportunities/3/reopen/"


def test_every_url_requires_login(client, opportunity):
    pages = [
        reverse("opportunities:list"),
        reverse("opportunities:create"),
        _url("detail", opportunity),
        _url("edit", opportunity),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"/login/?next={url}"
    for name in POST_ONLY:
        response = client.post(_url(name, opportunity), {"outcome": "won", "status_reason": "won"})
        assert response.status_code == 302, name
        assert response["Location"].startswith("/login/?next=")
    opportunity.refresh_from_db()
    assert opportunity.is_active
    assert opportunity.stage.name == "Develop"


def test_pages_open_for_the_owner(client, rep, opportunity):
    client.force_login(rep)
    for url in (
        reverse("opportunities:list"),
        reverse("opportunities:create"),
        _url("detail", opportunity),
        _url("edit", opportunity),
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("name", POST_ONLY)
def test_state_changes_refuse_get(client, rep, opportunity, name):
    client.force_login(rep)
    assert client.get(_url(name, opportunity)).status_code == 405
    opportunity.refresh_from_db()
    assert (opportunity.state, opportunity.stage.name) == ("open", "Develop")


def test_missing_opportunity_is_404(client, rep):
    client.force_login(rep)
    assert client.get(reverse("opportunities:detail", args=[999999])).status_code == 404
    assert client.post(reverse("opportunities:next_stage", args=[999999])).status_code == 404


def test_another_rep_reads_but_cannot_change(client, rep2, opportunity):
    client.force_login(rep2)

    html = client.get(_url("detail", opportunity)).content.decode()
    assert _url("edit", opportunity) not in html
    assert _url("next_stage", opportunity) not in html
    assert "closeWonModal" not in html
    assert client.get(_url("edit", opportunity)).status_code == 403
    assert client.post(_url("next_stage", opportunity)).status_code == 403
    response = client.post(_url("close", opportunity), {"outcome": "won", "status_reason": "won"})
    assert response.status_code == 403
    opportunity.refresh_from_db()
    assert (opportunity.state, opportunity.stage.name) == ("open", "Develop")


def test_manager_changes_any_opportunity(client, manager, opportunity):
    client.force_login(manager)
    client.post(_url("next_stage", opportunity))
    opportunity.refresh_from_db()
    assert opportunity.stage.name == "Propose"


# --- List ---------------------------------------------------------------------------------


def test_list_shows_customer_revenue_stage_status_and_owner(client, rep, opportunity):
    contact = ContactFactory(owner=rep, first_name="Nancy", last_name="Davolio")
    OpportunityFactory(owner=rep, account=None, contact=contact, name="Trial kit")
    client.force_login(rep)

    html = client.get(reverse("opportunities:list")).content.decode()

    assert "50 pallets of gloves" in html
    assert 'href="/accounts/' in html and "Contoso Pharmaceuticals" in html
    assert contact.get_absolute_url() in html and "Nancy Davolio" in html
    assert "USD 12,500.00" in html
    assert "Develop" in html
    assert 'class="badge badge-state-open"' in html
    assert rep.get_full_name() in html


@pytest.mark.parametrize("q", ["pallets", "contoso", "davolio", "nancy"])
def test_search_covers_topic_account_and_contact_names(client, rep, q):
    account = AccountFactory(owner=rep, name="Contoso")
    contact = ContactFactory(owner=rep, first_name="Nancy", last_name="Davolio")
    OpportunityFactory(owner=rep, account=account, name="50 pallets")
    OpportunityFactory(owner=rep, account=None, contact=contact, name="Gloves")
    OpportunityFactory(owner=rep, name="Unrelated")
    client.force_login(rep)

    found = {o.name for o in client.get(reverse("opportunities:list"), {"q": q}).context["page"]}

    expected = {"pallets": {"50 pallets"}, "contoso": {"50 pallets"}}.get(q, {"Gloves"})
    assert found == expected


def test_list_filters_by_state_stage_currency_and_owner(client, rep, rep2):
    won = OpportunityFactory(owner=rep, name="Won deal")
    _closed(won, rep)
    proposing = OpportunityFactory(owner=rep, name="Proposing")
    services.move_to_next_stage(opportunity=proposing, user=rep)
    OpportunityFactory(owner=rep2, name="In euros", currency=currency("EUR"))
    client.force_login(rep)
    url = reverse("opportunities:list")
    propose = next(s for s in process.opportunity_stages() if s.name == "Propose")

    def names(**params):
        return {o.name for o in client.get(url, params).context["page"]}

    assert names(state="won") == {"Won deal"}
    assert names(state="open") == {"Proposing", "In euros"}
    assert names(stage=propose.pk) == {"Proposing"}
    assert names(currency=currency("EUR").pk) == {"In euros"}
    assert names(owner=rep2.pk) == {"In euros"}
    # An invalid choice is shown as a filter error, not a 500.
    assert client.get(url, {"state": "bogus"}).status_code == 200


def test_list_sorts_by_allowed_keys(client, rep):
    OpportunityFactory(owner=rep, name="B", estimated_revenue=Decimal("10"))
    OpportunityFactory(owner=rep, name="A", estimated_revenue=Decimal("30"))
    OpportunityFactory(owner=rep, name="C", estimated_revenue=Decimal("20"))
    client.force_login(rep)
    url = reverse("opportunities:list")

    def names(sort):
        return [o.name for o in client.get(url, {"sort": sort}).context["page"]]

    assert names("name") == ["A", "B", "C"]
    assert names("-revenue") == ["A", "C", "B"]
    assert names("revenue") == ["B", "C", "A"]
    assert names("nope") == ["C", "A", "B"]  # default: newest first


def test_list_paginates_keeping_filters(client, rep):
    for n in range(55):
        OpportunityFactory(owner=rep, name=f"Deal {n:02d}")
    client.force_login(rep)
    url = reverse("opportunities:list")

    first = client.get(url, {"state": "open", "sort": "name"})
    second = client.get(url, {"state": "open", "sort": "name", "page": 2})

    assert len(first.context["page"]) == 50
    assert [o.name for o in second.context["page"]] == [f"Deal {n:02d}" for n in range(50, 55)]
    assert 'href="?state=open&amp;sort=name&amp;page=2"' in first.content.decode()


def test_list_empty_state(client, rep):
    client.force_login(rep)
    url = reverse("opportunities:list")
    assert "No opportunities yet" in client.get(url).content.decode()
    OpportunityFactory(owner=rep)
    html = client.get(url, {"state": "lost"}).content.decode()
    assert "No opportunities match these filters" in html
    assert reverse("opportunities:create") in html


def test_list_query_count_does_not_grow_with_rows(client, rep, rep2, django_assert_max_num_queries):
    client.force_login(rep)
    url = reverse("opportunities:list")

    def make(count):
        for n in range(count):
            owner = rep if n % 2 else rep2
            if n % 3:
                OpportunityFactory(owner=owner)
            else:
                OpportunityFactory(owner=owner, account=None, contact=ContactFactory(owner=owner))

    make(5)
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200
    make(55)
    with django_assert_max_num_queries(10):
        assert len(client.get(url).context["page"]) == 50


# --- Detail -------------------------------------------------------------------------------


def test_detail_shows_header_stage_bar_and_commands(client, rep, opportunity, account):
    client.force_login(rep)

    html = client.get(_url("detail", opportunity)).content.decode()

    assert '<h1 class="ll-title"' in html and "50 pallets of gloves" in html
    assert account.get_absolute_url() in html
    assert "USD 12,500.00" in html and "USD 15,000.00" in html
    assert "In Progress" in html
    assert rep.get_full_name() in html
    assert 'data-testid="stage-bar"' in html
    assert f'action="{_url("next_stage", opportunity)}"' in html
    assert f'action="{_url("previous_stage", opportunity)}"' not in html  # at the first stage
    assert _url("edit", opportunity) in html
    assert "Close as Won" in html and "Close as Lost" in html
    assert f'action="{_url("close", opportunity)}"' in html
    assert 'name="outcome" value="won"' in html and 'name="outcome" value="lost"' in html
    assert _url("reopen", opportunity) not in html
    for heading in ("Develop", "Propose", "Close"):
        assert heading in html


def test_detail_shows_originating_lead_and_its_notes_read_only(client, rep, account):
    lead = LeadFactory(owner=rep, qualified=True, topic="Gloves for the lab")
    note = NoteFactory(
        lead=lead, title="Budget call", text="They have 15k.", attachment_name="q.pdf"
    )
    NoteFactory(lead=LeadFactory(owner=rep), title="Someone else's note")
    opportunity = OpportunityFactory(owner=rep, account=account, originating_lead=lead)
    client.force_login(rep)

    html = client.get(_url("detail", opportunity)).content.decode()

    assert "Originating lead" in html
    assert reverse("leads:detail", args=[lead.pk]) in html
    assert "Budget call" in html and "They have 15k." in html and "q.pdf" in html
    assert "Someone else&#x27;s note" not in html
    # Shown read-only: no edit or delete controls for the lead's note.
    assert reverse("activities:note_edit", args=[note.pk]) not in html
    assert reverse("activities:note_delete", args=[note.pk]) not in html


def test_detail_without_lead(client, rep, opportunity):
    client.force_login(rep)
    html = client.get(_url("detail", opportunity)).content.decode()
    assert "not created from a lead" in html


def test_closed_detail_is_read_only_with_only_reopen(client, rep, opportunity):
    services.close_opportunity(
        opportunity=opportunity, user=rep, won=True, close_date=datetime.date(2026, 3, 4)
    )
    client.force_login(rep)

    html = client.get(_url("detail", opportunity)).content.decode()

    assert f"Closed as Won on Mar 4, 2026 by {rep.get_full_name()}" in html
    assert _url("reopen", opportunity) in html
    assert _url("edit", opportunity) not in html
    assert _url("next_stage", opportunity) not in html
    assert "closeWonModal" not in html


def test_detail_query_count_is_flat(client, rep, account, django_assert_max_num_queries):
    lead = LeadFactory(owner=rep, qualified=True)
    opportunity = OpportunityFactory(owner=rep, account=account, originating_lead=lead)
    NoteFactory(lead=lead)
    client.force_login(rep)
    # Session, user, the opportunity, role, stage bar, timeline (notes,
    # activities), stakeholders, history: at most 10, whatever the timeline holds.
    with django_assert_max_num_queries(10):
        client.get(_url("detail", opportunity))
    for _ in range(20):
        NoteFactory(lead=lead)
        NoteFactory(opportunity=opportunity)
    with django_assert_max_num_queries(10):
        client.get(_url("detail", opportunity))


# --- Create / edit ------------------------------------------------------------------------


def test_create_form_defaults(client, rep, account):
    client.force_login(rep)
    form = client.get(reverse("opportunities:create"), {"account": account.pk}).context["form"]
    assert form["owner"].value() == rep.pk
    assert form["currency"].value() == currency("USD").pk
    assert form["account"].value() == str(account.pk)
    assert form.fields["name"].label == "Topic"


def test_create_with_an_account_saves_at_first_stage(client, rep, account):
    client.force_login(rep)

    response = client.post(
        reverse("opportunities:create"),
        _form_data(
            account=account.pk,
            budget_amount="9000",
            estimated_revenue="8000",
            estimated_close_date="2026-06-30",
            customer_need="Ergonomic seating",
            identify_stakeholders="on",
        ),
    )

    opportunity = Opportunity.objects.get()
    assert response.status_code == 302
    assert response["Location"] == opportunity.get_absolute_url()
    assert (opportunity.account, opportunity.contact, opportunity.owner) == (account, None, rep)
    assert opportunity.stage.name == "Develop"
    assert opportunity.estimated_revenue == Decimal("8000")
    assert opportunity.estimated_close_date == datetime.date(2026, 6, 30)
    assert opportunity.identify_stakeholders is True
    assert (messages.SUCCESS, "Opportunity “Office chairs” created.") in _messages(response)


def test_create_with_a_contact(client, rep):
    contact = ContactFactory(owner=rep)
    client.force_login(rep)
    client.post(reverse("opportunities:create"), _form_data(contact=contact.pk))
    assert Opportunity.objects.get().contact == contact


def test_create_requires_a_customer(client, rep):
    client.force_login(rep)
    response = client.post(reverse("opportunities:create"), _form_data(account=None, contact=None))

    assert response.status_code == 200
    assert "Choose the customer: an account, a contact or both." in response.content.decode()
    assert not Opportunity.objects.exists()


def test_create_with_an_account_and_a_contact_links_both(client, rep, account):
    contact = ContactFactory(owner=rep, account=account)
    client.force_login(rep)

    response = client.post(
        reverse("opportunities:create"), _form_data(account=account.pk, contact=contact.pk)
    )

    opportunity = Opportunity.objects.get()
    assert response.status_code == 302
    assert (opportunity.account, opportunity.contact) == (account, contact)
    page = client.get(opportunity.get_absolute_url()).content.decode()
    assert account.name in page and contact.full_name in page


def test_create_with_bad_input_rerenders_errors(client, rep, account):
    client.force_login(rep)
    response = client.post(
        reverse("opportunities:create"),
        _form_data(name="", account=account.pk, budget_amount="-5", estimated_close_date="soon"),
    )
    assert response.status_code == 200
    assert {"name", "budget_amount", "estimated_close_date"} <= set(response.context["form"].errors)
    assert not Opportunity.objects.exists()


def test_edit_saves_and_redirects(client, rep, opportunity, account):
    client.force_login(rep)
    url = _url("edit", opportunity)
    assert client.get(url).context["form"]["name"].value() == "50 pallets of gloves"

    response = client.post(
        url, _form_data(name="60 pallets", account=account.pk, develop_proposal="on")
    )

    assert response["Location"] == opportunity.get_absolute_url()
    opportunity.refresh_from_db()
    assert (opportunity.name, opportunity.develop_proposal) == ("60 pallets", True)
    assert opportunity.stage.name == "Develop"
    assert (messages.SUCCESS, "Opportunity “60 pallets” saved.") in _messages(response)


def test_edit_with_errors_changes_nothing(client, rep, opportunity):
    client.force_login(rep)
    response = client.post(_url("edit", opportunity), _form_data(name=""))
    assert response.status_code == 200
    assert {"name", "account"} <= set(response.context["form"].errors)
    opportunity.refresh_from_db()
    assert opportunity.name == "50 pallets of gloves"


def test_closed_opportunity_refuses_edit(client, rep, opportunity, account):
    _closed(opportunity, rep)
    client.force_login(rep)

    page = client.get(_url("edit", opportunity))
    assert page.status_code == 302
    assert page["Location"] == opportunity.get_absolute_url()
    assert any("read-only" in e for e in _errors(page))

    response = client.post(_url("edit", opportunity), _form_data(name="Sneaky", account=account.pk))
    assert response.status_code == 302
    opportunity.refresh_from_db()
    assert opportunity.name == "50 pallets of gloves"


# --- Stage bar ----------------------------------------------------------------------------


def test_next_and_previous_stage_move_along_the_flow(client, rep, opportunity):
    client.force_login(rep)
    assert _stage_names() == ["Develop", "Propose", "Close"]

    response = client.post(_url("next_stage", opportunity))
    assert response["Location"] == opportunity.get_absolute_url()
    assert (messages.SUCCESS, "Moved to stage Propose.") in _messages(response)
    client.post(_url("next_stage", opportunity))
    opportunity.refresh_from_db()
    assert opportunity.stage.name == "Close"

    response = client.post(_url("previous_stage", opportunity))
    assert (messages.SUCCESS, "Moved back to stage Propose.") in _messages(response)
    opportunity.refresh_from_db()
    assert opportunity.stage.name == "Propose"


def test_stage_moves_refuse_beyond_the_ends(client, rep, opportunity):
    client.force_login(rep)

    response = client.post(_url("previous_stage", opportunity))
    assert response.status_code == 302
    assert _errors(response) == ["The opportunity is already at the first stage."]
    opportunity.refresh_from_db()
    assert opportunity.stage.name == "Develop"

    client.post(_url("next_stage", opportunity))
    client.post(_url("next_stage", opportunity))
    response = client.post(_url("next_stage", opportunity))
    # Messages not yet shown on a page pile up; the newest is last.
    assert _errors(response)[-1] == "The opportunity is already at the last stage."
    opportunity.refresh_from_db()
    assert opportunity.stage.name == "Close"
    html = client.get(_url("detail", opportunity)).content.decode()
    assert f'action="{_url("next_stage", opportunity)}"' not in html
    assert f'action="{_url("previous_stage", opportunity)}"' in html


def test_closed_opportunity_refuses_stage_moves(client, rep, opportunity):
    _closed(opportunity, rep, won=False)
    client.force_login(rep)

    for name in ("next_stage", "previous_stage"):
        response = client.post(_url(name, opportunity))
        assert response.status_code == 302
        assert any("read-only" in e for e in _errors(response))
    opportunity.refresh_from_db()
    assert (opportunity.state, opportunity.stage.name) == ("lost", "Develop")


# --- Close and reopen ---------------------------------------------------------------------


def test_close_as_won_with_actual_revenue_and_date(client, rep, opportunity):
    client.force_login(rep)

    response = client.post(
        _url("close", opportunity),
        {
            "outcome": "won",
            "status_reason": "won",
            "actual_revenue": "11800.50",
            "close_date": "2026-05-01",
        },
    )

    assert response["Location"] == opportunity.get_absolute_url()
    assert (messages.SUCCESS, "Opportunity closed as Won (Won).") in _messages(response)
    opportunity.refresh_from_db()
    assert (opportunity.state, opportunity.status_reason) == ("won", "won")
    assert opportunity.actual_revenue == Decimal("11800.50")
    assert opportunity.actual_close_date == datetime.date(2026, 5, 1)
    assert opportunity.closed_by == rep


@pytest.mark.parametrize("reason", ["canceled", "out_sold"])
def test_close_as_lost_with_a_status_reason(client, rep, opportunity, reason):
    client.force_login(rep)

    client.post(
        _url("close", opportunity),
        {"outcome": "lost", "status_reason": reason, "actual_revenue": "0"},
    )

    opportunity.refresh_from_db()
    assert (opportunity.state, opportunity.status_reason) == ("lost", reason)
    assert opportunity.actual_revenue == Decimal("0")
    assert opportunity.actual_close_date is not None


@pytest.mark.parametrize(
    "data",
    [
        {"outcome": "lost", "status_reason": "won"},
        {"outcome": "won", "status_reason": "out_sold"},
        {"outcome": "maybe", "status_reason": "won"},
        {"outcome": "won", "status_reason": "won", "actual_revenue": "-1"},
        {"outcome": "won", "status_reason": "won", "close_date": "yesterday"},
        {},
    ],
)
def test_close_with_bad_input_changes_nothing(client, rep, opportunity, data):
    client.force_login(rep)

    response = client.post(_url("close", opportunity), data)

    assert response.status_code == 302
    assert response["Location"] == opportunity.get_absolute_url()
    assert any(e.startswith("The opportunity was not closed.") for e in _errors(response))
    opportunity.refresh_from_db()
    assert opportunity.state == "open"


def test_close_refuses_an_already_closed_opportunity(client, rep, opportunity):
    _closed(opportunity, rep, won=False)
    client.force_login(rep)

    response = client.post(_url("close", opportunity), {"outcome": "won", "status_reason": "won"})

    assert any("read-only" in e for e in _errors(response))
    opportunity.refresh_from_db()
    assert opportunity.state == "lost"


def test_reopen_makes_it_open_and_editable_again(client, rep, opportunity):
    _closed(opportunity, rep)
    client.force_login(rep)

    response = client.post(_url("reopen", opportunity))

    assert response["Location"] == opportunity.get_absolute_url()
    assert (messages.SUCCESS, "Opportunity reopened.") in _messages(response)
    opportunity.refresh_from_db()
    assert (opportunity.state, opportunity.status_reason) == ("open", "in_progress")
    assert client.get(_url("edit", opportunity)).status_code == 200


def test_reopen_refuses_an_open_opportunity(client, rep, opportunity):
    client.force_login(rep)
    response = client.post(_url("reopen", opportunity))
    assert _errors(response) == ["This opportunity is already open."]
