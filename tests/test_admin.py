"""The Django admin: every registered model's pages, the singleton settings, the
process flow, and leads, whose every write goes through leads.services."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.forms.models import model_to_dict
from django.test import TestCase
from django.urls import reverse

from activities.models import Activity, Connection, Note
from crm import process
from crm.models import Currency, Job, OrganizationSettings, ProcessFlow, ProcessStage
from leads import services
from leads.models import Lead, LeadSource, Rating
from opportunities.models import Opportunity
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ConnectionFactory,
    ContactFactory,
    LeadFactory,
    NoteFactory,
    OpportunityFactory,
)

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _messages(response) -> list[tuple[int, str]]:
    return [(m.level, str(m)) for m in get_messages(response.wsgi_request)]


def _errors(response) -> list[str]:
    return [text for level, text in _messages(response) if level == messages.ERROR]


def _lead_form_data(lead: Lead, **changes) -> dict:
    """The admin change form's POST data for `lead`, with `changes` applied."""
    fields = [
        "topic",
        "first_name",
        "last_name",
        "company_name",
        "job_title",
        "business_phone",
        "mobile_phone",
        "email",
        "website",
        "existing_account",
        "existing_contact",
        "owner",
        "lead_source",
        "rating",
        "industry",
        "preferred_contact_method",
        "do_not_email",
        "do_not_call",
        "budget_amount",
        "currency",
        "purchase_timeframe",
        "purchase_process",
        "decision_maker_identified",
        "description",
    ]
    data = {**model_to_dict(lead, fields=fields), **changes}
    # Unticked checkboxes are absent from a real POST; None is an empty input.
    return {k: ("" if v is None else v) for k, v in data.items() if v is not False}


def _run_action(client, action: str, leads: list[Lead]):
    return client.post(
        _url(Lead, "changelist"),
        {"action": action, ACTION_CHECKBOX_NAME: [lead.pk for lead in leads]},
        follow=True,
    )


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


# Every registered model -------------------------------------------------------


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_changelist_page_of_every_registered_model_answers(admin_client, model):
    response = admin_client.get(_url(model, "changelist"), follow=True)

    assert response.status_code == 200


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_add_page_of_every_registered_model_answers(admin_client, model, rf, admin_user):
    request = rf.get("/")
    request.user = admin_user
    may_add = admin.site._registry[model].has_add_permission(request)

    response = admin_client.get(_url(model, "add"))

    # The organisation settings singleton exists (a data migration made it): no second one.
    # Notes, activities and stakeholders are created in the app, through the services.
    # django-axes records sign-in attempts itself. Jobs are started by the app;
    # API tokens by their users; webhook deliveries by the events; scoring models
    # by a training (Retrain now).
    assert response.status_code == (200 if may_add else 403)
    assert (
        may_add
        or model in (OrganizationSettings, Note, Activity, Connection, Job)
        or model._meta.label in ("api.ApiToken", "api.WebhookDelivery", "leads.ScoringModel")
        or model._meta.app_label == "axes"
    )


def test_every_app_model_is_registered_in_the_admin():
    labels = {model._meta.label for model in REGISTERED}

    assert {
        "crm.Currency",
        "crm.OrganizationSettings",
        "crm.ProcessFlow",
        "crm.ProcessStage",
        "crm.ProcessStep",
        "leads.Lead",
        "accounts.Account",
        "accounts.Contact",
        "opportunities.Opportunity",
        "activities.Note",
        "activities.Activity",
        "activities.Connection",
    } <= labels


def test_change_page_of_every_registered_model_answers(admin_client):
    # One record of each app model, so each change page has something to show.
    ActivityFactory()
    ConnectionFactory()
    NoteFactory()
    OpportunityFactory()
    for model in REGISTERED:
        obj = model._default_manager.first()
        if obj is None:
            continue
        response = admin_client.get(_url(model, "change", obj.pk))
        assert response.status_code == 200, model._meta.label


# Lead changelist: search and filters ---------------------------------------------


def test_lead_changelist_search_finds_by_company_email_and_topic(admin_client):
    wanted = LeadFactory(
        topic="Pilot of forty terminals", company_name="Zephyr Widgets", email="ana@zephyr.example"
    )
    LeadFactory(topic="Renewal", company_name="Other Co")

    for term in ("zephyr widgets", "ana@zephyr", "forty terminals"):
        response = admin_client.get(_url(Lead, "changelist"), {"q": term})
        assert response.status_code == 200
        assert list(response.context["cl"].result_list) == [wanted], term


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state__exact": "qualified"}, "qualified"),
        ({"status_reason__exact": "lost"}, "disqualified"),
        ({"lead_source__exact": LeadSource.TRADE_SHOW}, "trade_show"),
        ({"rating__exact": Rating.HOT}, "hot"),
    ],
)
def test_lead_changelist_filters_narrow_the_list(admin_client, params, expected):
    leads = {
        "open": LeadFactory(),
        "qualified": LeadFactory(qualified=True),
        "disqualified": LeadFactory(disqualified=True),
        "trade_show": LeadFactory(lead_source=LeadSource.TRADE_SHOW),
        "hot": LeadFactory(rating=Rating.HOT),
    }

    response = admin_client.get(_url(Lead, "changelist"), params)

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [leads[expected]]


def test_lead_changelist_filters_by_owner(admin_client, rep, rep2):
    mine = LeadFactory(owner=rep)
    LeadFactory(owner=rep2)

    response = admin_client.get(_url(Lead, "changelist"), {"owner__id__exact": rep.pk})

    assert list(response.context["cl"].result_list) == [mine]


# Organisation settings and the process flow -----------------------------------------


def test_organization_settings_changelist_goes_to_the_single_record(admin_client):
    response = admin_client.get(_url(OrganizationSettings, "changelist"))

    singleton = OrganizationSettings.load()
    assert response.status_code == 302
    assert response.url == _url(OrganizationSettings, "change", singleton.pk)


def test_organization_settings_can_be_edited(admin_client):
    singleton = OrganizationSettings.load()
    eur = Currency.objects.get(code="EUR")

    response = admin_client.post(
        _url(OrganizationSettings, "change", singleton.pk),
        {
            # create_records_on_qualify unticked: turned off.
            "default_currency": eur.pk,
            "duplicate_detection_enabled": "on",
        },
    )

    assert response.status_code == 302
    singleton = OrganizationSettings.load()
    assert singleton.create_records_on_qualify is False
    assert singleton.duplicate_detection_enabled is True
    assert singleton.default_currency == eur
    assert OrganizationSettings.objects.count() == 1


def test_organization_settings_cannot_be_deleted(admin_client):
    singleton = OrganizationSettings.load()

    response = admin_client.post(
        _url(OrganizationSettings, "delete", singleton.pk), {"post": "yes"}
    )

    assert response.status_code == 403
    assert OrganizationSettings.objects.filter(pk=singleton.pk).exists()


def test_process_stage_can_be_renamed_in_the_admin(admin_client):
    develop = ProcessStage.objects.get(name="Develop")
    steps = list(develop.steps.all())
    data = {
        "name": "Discover",
        "process": develop.process_id,
        "entity": develop.entity,
        "order": develop.order,
        "steps-TOTAL_FORMS": len(steps),
        "steps-INITIAL_FORMS": len(steps),
        "steps-MIN_NUM_FORMS": 0,
        "steps-MAX_NUM_FORMS": 1000,
    }
    for i, step in enumerate(steps):
        data |= {
            f"steps-{i}-id": step.pk,
            f"steps-{i}-stage": develop.pk,
            f"steps-{i}-order": step.order,
            f"steps-{i}-name": step.name,
            f"steps-{i}-field_name": step.field_name,
        }

    response = admin_client.post(_url(ProcessStage, "change", develop.pk), data)

    assert response.status_code == 302
    develop.refresh_from_db()
    assert develop.name == "Discover"
    assert develop.steps.count() == len(steps)
    assert process.first_opportunity_stage() == develop


def test_process_stages_can_be_reordered_in_the_flow_admin(admin_client):
    flow = ProcessFlow.default()
    stages = list(flow.stages.order_by("order"))
    new_order = {"Qualify": 10, "Develop": 20, "Propose": 40, "Close": 30}
    data = {
        "name": flow.name,
        "description": flow.description,
        "is_default": "on",
        "stages-TOTAL_FORMS": len(stages),
        "stages-INITIAL_FORMS": len(stages),
        "stages-MIN_NUM_FORMS": 0,
        "stages-MAX_NUM_FORMS": 1000,
    }
    for i, stage in enumerate(stages):
        data |= {
            f"stages-{i}-id": stage.pk,
            f"stages-{i}-process": flow.pk,
            f"stages-{i}-order": new_order[stage.name],
            f"stages-{i}-name": stage.name,
            f"stages-{i}-entity": stage.entity,
        }

    response = admin_client.post(_url(ProcessFlow, "change", flow.pk), data)

    assert response.status_code == 302
    assert [s.name for s in process.opportunity_stages()] == ["Develop", "Close", "Propose"]


def test_process_stage_order_is_editable_on_the_changelist(admin_client):
    stages = list(ProcessStage.objects.order_by("process", "order"))
    data = {
        "form-TOTAL_FORMS": len(stages),
        "form-INITIAL_FORMS": len(stages),
        "form-MIN_NUM_FORMS": 0,
        "form-MAX_NUM_FORMS": 1000,
        "_save": "Save",
    }
    for i, stage in enumerate(stages):
        # Move Close before Develop.
        order = 15 if stage.name == "Close" else stage.order
        data |= {f"form-{i}-id": stage.pk, f"form-{i}-order": order}

    response = admin_client.post(_url(ProcessStage, "changelist"), data)

    assert response.status_code == 302
    assert [s.name for s in process.opportunity_stages()] == ["Close", "Develop", "Propose"]


# Leads: read-only when inactive, created and edited through the services ----------------


@pytest.mark.parametrize("trait", ["qualified", "disqualified"])
def test_inactive_lead_change_page_has_no_editable_fields(admin_client, trait):
    lead = LeadFactory(**{trait: True})

    response = admin_client.get(_url(Lead, "change", lead.pk))

    assert response.status_code == 200
    content = response.content.decode()
    assert lead.topic in content
    for name in ("topic", "first_name", "company_name", "email", "owner", "rating"):
        assert f'name="{name}"' not in content, name
    assert 'name="_save"' not in content


@pytest.mark.parametrize("trait", ["qualified", "disqualified"])
def test_inactive_lead_refuses_a_post_to_its_change_form(admin_client, trait):
    lead = LeadFactory(**{trait: True})
    before = model_to_dict(Lead.objects.get(pk=lead.pk))

    response = admin_client.post(
        _url(Lead, "change", lead.pk), _lead_form_data(lead, topic="Changed", company_name="X")
    )

    assert response.status_code == 403
    assert model_to_dict(Lead.objects.get(pk=lead.pk)) == before


def test_admin_add_form_creates_an_open_new_lead_at_qualify_through_the_service(admin_client, rep):
    response = admin_client.post(
        _url(Lead, "add"),
        {
            "topic": "Trade show visitor: 25 units",
            "first_name": "Ingrid",
            "last_name": "Johansson",
            "company_name": "Fjord Systems",
            "owner": rep.pk,
            "rating": Rating.HOT,
            "preferred_contact_method": "any",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    lead = Lead.objects.get()
    assert lead.topic == "Trade show visitor: 25 units"
    assert (lead.state, lead.status_reason) == ("open", "new")
    assert lead.stage == process.first_lead_stage()
    assert lead.stage.name == "Qualify"
    assert lead.owner == rep
    assert lead.rating == Rating.HOT
    assert response.url == _url(Lead, "changelist")


def test_admin_add_form_fills_empty_fields_from_the_existing_contact(admin_client, rep):
    contact = ContactFactory(
        first_name="Nancy",
        last_name="Davolio",
        job_title="Purchasing Manager",
        email="nancy@northwind.example",
        business_phone="+1 206 555 0100",
        mobile_phone="+1 206 555 0199",
    )

    response = admin_client.post(
        _url(Lead, "add"),
        {
            "topic": "Expansion to the Tacoma warehouse",
            "job_title": "Head of Purchasing",  # filled in by the user: kept
            "existing_contact": contact.pk,
            "owner": rep.pk,
            "rating": Rating.WARM,
            "preferred_contact_method": "any",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    lead = Lead.objects.get()
    assert lead.existing_contact == contact
    assert (lead.first_name, lead.last_name) == ("Nancy", "Davolio")
    assert lead.job_title == "Head of Purchasing"
    assert lead.email == "nancy@northwind.example"
    assert (lead.business_phone, lead.mobile_phone) == ("+1 206 555 0100", "+1 206 555 0199")


def test_admin_add_form_fills_the_company_name_from_the_existing_account(admin_client, rep):
    account = AccountFactory(name="Northwind Traders")

    response = admin_client.post(
        _url(Lead, "add"),
        {
            "topic": "Expansion to the Tacoma warehouse",
            "existing_account": account.pk,
            "owner": rep.pk,
            "rating": Rating.WARM,
            "preferred_contact_method": "any",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    lead = Lead.objects.get()
    assert lead.existing_account == account
    assert lead.company_name == "Northwind Traders"


def test_admin_add_form_without_topic_shows_an_error_and_saves_nothing(admin_client, rep):
    response = admin_client.post(
        _url(Lead, "add"),
        {
            "first_name": "Ingrid",
            "owner": rep.pk,
            "rating": "warm",
            "preferred_contact_method": "any",
        },
    )

    assert response.status_code == 200
    assert "topic" in response.context["adminform"].form.errors
    assert not Lead.objects.exists()


def test_admin_edits_an_open_lead(admin_client, rep2):
    lead = LeadFactory(company_name="Old Name Ltd")

    response = admin_client.post(
        _url(Lead, "change", lead.pk),
        _lead_form_data(lead, company_name="New Name Ltd", owner=rep2.pk, rating=Rating.COLD),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    lead.refresh_from_db()
    assert lead.company_name == "New Name Ltd"
    assert lead.owner == rep2
    assert lead.rating == Rating.COLD
    assert (lead.state, lead.status_reason) == ("open", "new")


def test_admin_edit_of_a_lead_closed_meanwhile_shows_the_refusal_and_saves_nothing(
    admin_client, monkeypatch
):
    lead = LeadFactory(company_name="Old Name Ltd")
    real_update = services.update_lead

    def closed_by_someone_else_first(**kwargs):
        Lead.objects.filter(pk=lead.pk).update(state="qualified", status_reason="qualified")
        return real_update(**kwargs)

    monkeypatch.setattr(services, "update_lead", closed_by_someone_else_first)

    response = admin_client.post(
        _url(Lead, "change", lead.pk), _lead_form_data(lead, company_name="New Name Ltd")
    )

    assert response.status_code == 302
    assert response.url == _url(Lead, "change", lead.pk)
    [(level, text)] = _messages(response)
    assert level == messages.ERROR
    assert "read-only" in text
    # The whole admin request rolled back, including the state change made "meanwhile".
    lead.refresh_from_db()
    assert lead.company_name == "Old Name Ltd"


# Lead admin actions ------------------------------------------------------------------------


def test_admin_lists_the_lead_lifecycle_actions(admin_client):
    response = admin_client.get(_url(Lead, "changelist"))

    descriptions = [label for _, label in response.context["action_form"].fields["action"].choices]
    for expected in (
        "Qualify selected leads",
        "Disqualify selected leads: Lost",
        "Disqualify selected leads: Cannot Contact",
        "Disqualify selected leads: No Longer Interested",
        "Disqualify selected leads: Canceled",
        "Reactivate selected leads",
    ):
        assert expected in descriptions


def test_qualify_action_qualifies_open_leads_and_reports_each_refusal(admin_client, admin_user):
    open_lead = LeadFactory(company_name="Fjord Systems", budget_amount=5000)
    done = LeadFactory(qualified=True)

    response = _run_action(admin_client, "qualify_selected", [open_lead, done])

    assert response.status_code == 200
    open_lead.refresh_from_db()
    assert (open_lead.state, open_lead.status_reason) == ("qualified", "qualified")
    assert open_lead.qualified_by == admin_user
    opportunity = Opportunity.objects.get(originating_lead=open_lead)
    assert open_lead.qualified_opportunity == opportunity
    assert opportunity.account.name == "Fjord Systems"
    assert (messages.SUCCESS, "1 lead(s) qualified.") in _messages(response)
    errors = _errors(response)
    assert len(errors) == 1
    assert str(done) in errors[0]
    assert "already qualified" in errors[0]


def test_qualify_action_reports_a_refusal_and_creates_nothing_when_options_are_required(
    admin_client, manual_qualify
):
    lead = LeadFactory()

    response = _run_action(admin_client, "qualify_selected", [lead])

    lead.refresh_from_db()
    assert lead.state == "open"
    assert not Opportunity.objects.exists()
    [(level, text)] = _messages(response)
    assert level == messages.ERROR
    assert str(lead) in text
    assert "Say whether to create" in text


@pytest.mark.parametrize("reason", Lead.DISQUALIFY_REASONS, ids=lambda r: r.value)
def test_disqualify_actions_close_open_leads_with_their_reason(admin_client, admin_user, reason):
    open_lead = LeadFactory()
    closed = LeadFactory(disqualified=True)

    response = _run_action(admin_client, f"disqualify_{reason.value}", [open_lead, closed])

    open_lead.refresh_from_db()
    assert (open_lead.state, open_lead.status_reason) == ("disqualified", reason.value)
    assert open_lead.disqualified_by == admin_user
    closed.refresh_from_db()
    assert closed.status_reason == "lost"
    assert (messages.SUCCESS, "1 lead(s) disqualified.") in _messages(response)
    errors = _errors(response)
    assert len(errors) == 1
    assert str(closed) in errors[0]
    assert "already disqualified" in errors[0]


def test_reactivate_action_reopens_inactive_leads_and_reports_open_ones(admin_client, rep):
    qualified = LeadFactory(qualified=True, owner=rep)
    disqualified = LeadFactory(disqualified=True, owner=rep)
    already_open = LeadFactory()

    response = _run_action(
        admin_client, "reactivate_selected", [qualified, disqualified, already_open]
    )

    for lead in (qualified, disqualified):
        lead.refresh_from_db()
        assert (lead.state, lead.status_reason) == ("open", "new")
        assert lead.owner == rep
    assert (messages.SUCCESS, "2 lead(s) reactivated.") in _messages(response)
    errors = _errors(response)
    assert len(errors) == 1
    assert str(already_open) in errors[0]
    assert "already open" in errors[0]


@pytest.mark.parametrize("state", ["won", "lost"])
def test_closed_opportunity_is_read_only_in_admin(client, admin_user, state):
    from opportunities.models import Opportunity
    from tests.factories import OpportunityFactory

    reason = "won" if state == "won" else "canceled"
    opp = OpportunityFactory(state=state, status_reason=reason, name="Closed deal")
    client.force_login(admin_user)
    url = reverse("admin:opportunities_opportunity_change", args=[opp.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="name"' not in page.content.decode()
    response = client.post(url, {"name": "Changed"})
    assert response.status_code == 403
    assert Opportunity.objects.get(pk=opp.pk).name == "Closed deal"


# Notes, activities, stakeholders: view and delete only ---------------------------


def test_timeline_items_are_view_only_in_the_admin(admin_client):
    note = NoteFactory(text="kept")

    assert admin_client.get(_url(Note, "add")).status_code == 403
    response = admin_client.post(_url(Note, "change", note.pk), {"text": "changed"})
    assert response.status_code == 403
    note.refresh_from_db()
    assert note.text == "kept"


def test_deleting_a_note_in_the_admin_removes_its_file(admin_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    note = NoteFactory()
    note.attachment.save("brief.pdf", ContentFile(b"x"), save=True)
    path = Path(note.attachment.path)

    page = admin_client.get(_url(Note, "change", note.pk)).content.decode()
    assert note.download_url in page and "/media/" not in page
    with TestCase.captureOnCommitCallbacks(execute=True):
        admin_client.post(_url(Note, "delete", note.pk), {"post": "yes"})

    assert not Note.objects.exists()
    assert not path.exists()
