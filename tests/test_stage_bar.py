"""The stage bar on the pages: a qualified lead's bar follows its opportunity,
the active stage's steps are filled in on the bar (htmx fragments through the
services), required steps are marked and named when Next stage is refused, and
"Switch process" is offered to whoever may change the record."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from crm.models import ProcessFlow, ProcessStage, ProcessStep
from leads import services as lead_services
from opportunities import services
from tests.factories import AccountFactory, LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def active_stage(html: str) -> str:
    found = re.search(
        r'class="ll-stage active"[^>]*aria-current="step"[^>]*>\s*(?:<i[^>]*></i>\s*)?([^<]+)<',
        html,
    )
    return found.group(1).strip() if found else ""


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def quick_flow() -> ProcessFlow:
    flow = ProcessFlow.objects.create(name="Quick Sale")
    for order, (name, entity) in enumerate([("Qualify", "lead"), ("Quote", "opportunity")], 1):
        ProcessStage.objects.create(process=flow, name=name, entity=entity, order=order)
    return flow


def test_a_qualified_leads_bar_shows_where_its_opportunity_stands_now(client, rep):
    lead = LeadFactory(owner=rep)
    opportunity = lead_services.qualify_lead(lead=lead, user=rep).opportunity
    client.force_login(rep)
    assert active_stage(client.get(lead.get_absolute_url()).content.decode()) == "Develop"

    services.move_to_next_stage(opportunity=opportunity, user=rep)
    services.move_to_next_stage(opportunity=opportunity, user=rep)

    html = client.get(lead.get_absolute_url()).content.decode()
    assert active_stage(html) == "Close"
    assert opportunity.get_absolute_url() in html  # its stages open the opportunity
    # ... and the opportunity's Qualify stage opens the lead, as before.
    assert lead.get_absolute_url() in client.get(opportunity.get_absolute_url()).content.decode()


def test_the_owner_is_offered_to_edit_the_steps_and_another_rep_is_not(client, rep, rep2):
    lead = LeadFactory(owner=rep)
    edit_url = reverse("leads:edit_steps", args=[lead.pk])
    client.force_login(rep)
    assert edit_url in client.get(lead.get_absolute_url()).content.decode()
    client.force_login(rep2)
    assert edit_url not in client.get(lead.get_absolute_url()).content.decode()
    assert client.get(edit_url, **HX).status_code == 403


def test_an_inactive_leads_steps_are_read_only(client, rep):
    lead = LeadFactory(owner=rep, disqualified=True)
    client.force_login(rep)
    edit_url = reverse("leads:edit_steps", args=[lead.pk])
    assert edit_url not in client.get(lead.get_absolute_url()).content.decode()
    assert client.post(edit_url, {"purchase_timeframe": "this_quarter"}, **HX).status_code == 403
    lead.refresh_from_db()
    assert lead.purchase_timeframe == ""


def test_editing_a_leads_steps_in_place(client, rep):
    account = AccountFactory(name="Contoso Ltd")
    AccountFactory(name="Unrelated Ltd")
    lead = LeadFactory(owner=rep, company_name="contoso ltd", purchase_timeframe="")
    client.force_login(rep)

    form = client.get(reverse("leads:edit_steps", args=[lead.pk]), **HX)
    html = form.content.decode()
    assert form.status_code == 200 and 'data-testid="steps-form"' in html
    assert "<html" not in html  # a fragment, not a page
    # The Qualify stage's pickers offer the duplicate rules' matches, as the edit form does.
    assert "Contoso Ltd" in html and "Unrelated Ltd" not in html

    saved = client.post(
        reverse("leads:edit_steps", args=[lead.pk]),
        {
            "existing_account": account.pk,
            "purchase_timeframe": "this_quarter",
            "budget_amount": "25000",
            "purchase_process": "individual",
            "decision_maker_identified": "on",
            "loaded_modified_at": form.context["form"]["loaded_modified_at"].value(),
        },
        **HX,
    )
    assert saved.status_code == 200
    assert 'data-testid="steps-form"' not in saved.content.decode()  # back to read-only
    assert "This Quarter" in saved.content.decode()
    assert "25,000.00" in saved.content.decode()
    lead.refresh_from_db()
    assert lead.existing_account == account
    assert (lead.purchase_timeframe, lead.decision_maker_identified) == ("this_quarter", True)
    assert lead.history.first().history_user == rep  # through the service, audited


def test_a_bad_step_value_answers_the_form_with_the_reason_and_saves_nothing(client, rep):
    lead = LeadFactory(owner=rep, budget_amount=None)
    client.force_login(rep)
    response = client.post(
        reverse("leads:edit_steps", args=[lead.pk]), {"budget_amount": "-5"}, **HX
    )
    assert response.status_code == 200
    assert 'data-testid="steps-form"' in response.content.decode()
    assert "invalid-feedback" in response.content.decode()
    lead.refresh_from_db()
    assert lead.budget_amount is None


def test_a_stale_steps_form_is_refused(client, rep):
    lead = LeadFactory(owner=rep)
    client.force_login(rep)
    form = client.get(reverse("leads:edit_steps", args=[lead.pk]), **HX)
    loaded = form.context["form"]["loaded_modified_at"].value()
    lead_services.update_lead(lead=lead, user=rep, purchase_process="committee")
    response = client.post(
        reverse("leads:edit_steps", args=[lead.pk]),
        {"purchase_process": "individual", "loaded_modified_at": loaded},
        **HX,
    )
    assert "Someone else changed this lead" in response.content.decode()
    lead.refresh_from_db()
    assert lead.purchase_process == "committee"


def test_editing_an_opportunitys_steps_without_htmx_goes_back_to_it(client, rep):
    opportunity = OpportunityFactory(owner=rep)
    client.force_login(rep)
    page = client.get(reverse("opportunities:edit_steps", args=[opportunity.pk]))
    assert page.status_code == 200 and "<html" in page.content.decode()
    response = client.post(
        reverse("opportunities:edit_steps", args=[opportunity.pk]),
        {"customer_need": "Rugged tablets", "identify_stakeholders": "on"},
    )
    assert response.status_code == 302 and response.url == opportunity.get_absolute_url()
    opportunity.refresh_from_db()
    assert (opportunity.customer_need, opportunity.identify_stakeholders) == (
        "Rugged tablets",
        True,
    )
    assert (opportunity.identify_competitors, opportunity.proposed_solution) == (False, "")


def test_required_steps_are_marked_and_named_when_next_stage_is_refused(client, rep):
    ProcessStep.objects.filter(field_name="customer_need").update(is_required=True)
    opportunity = OpportunityFactory(owner=rep)
    client.force_login(rep)
    html = client.get(opportunity.get_absolute_url()).content.decode()
    assert 'data-testid="step-missing"' in html

    response = client.post(reverse("opportunities:next_stage", args=[opportunity.pk]))

    assert response.status_code == 302
    assert messages_of(response) == ["These required steps are not filled in yet: Customer need."]
    opportunity.refresh_from_db()
    assert opportunity.stage.name == "Develop"


def test_switch_process_is_offered_only_when_there_is_another_flow(client, rep, quick_flow):
    lead = LeadFactory(owner=rep)
    url = reverse("leads:switch_process", args=[lead.pk])
    client.force_login(rep)
    assert url in client.get(lead.get_absolute_url()).content.decode()
    quick_flow.delete()
    assert url not in client.get(lead.get_absolute_url()).content.decode()


def test_switching_a_leads_process_from_its_bar(client, rep, quick_flow):
    lead = LeadFactory(owner=rep)
    client.force_login(rep)
    choices = client.get(reverse("leads:switch_process", args=[lead.pk]), **HX).content.decode()
    assert "Quick Sale" in choices and "Lead to Opportunity" not in choices

    response = client.post(reverse("leads:switch_process", args=[lead.pk]), {"flow": quick_flow.pk})

    assert response.status_code == 302
    assert messages_of(response) == ["Switched to the process “Quick Sale”, at Qualify."]
    lead.refresh_from_db()
    assert lead.stage.process == quick_flow
    assert "Quick Sale" in client.get(lead.get_absolute_url()).content.decode()


def test_switching_to_an_unknown_flow_changes_nothing(client, rep):
    opportunity = OpportunityFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        reverse("opportunities:switch_process", args=[opportunity.pk]), {"flow": "999"}
    )
    assert messages_of(response) == ["Choose one of the processes offered; nothing was changed."]
    opportunity.refresh_from_db()
    assert opportunity.stage.process.is_default


def test_a_role_can_be_kept_from_seeing_the_bar(client, rep):
    from django.contrib.auth.models import Group

    flow = ProcessFlow.objects.get(is_default=True)
    flow.hidden_from_groups.add(Group.objects.get(name="Sales Rep"))
    lead = LeadFactory(owner=rep)
    client.force_login(rep)
    assert 'data-testid="stage-bar"' not in client.get(lead.get_absolute_url()).content.decode()
