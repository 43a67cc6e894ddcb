"""`manage.py seed_demo`: demo users and a realistic data set, idempotent."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Account, Contact
from activities.models import Activity, Note
from leads.models import Lead
from opportunities.models import Opportunity

pytestmark = pytest.mark.django_db

MODELS = (get_user_model(), Account, Contact, Lead, Opportunity, Note, Activity)


def seed(**options) -> None:
    call_command("seed_demo", force=True, stdout=StringIO(), stderr=StringIO(), **options)


def counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in MODELS}


@pytest.fixture
def seeded(db):
    seed()


def test_seed_demo_creates_the_demo_users_with_their_name_as_password(seeded, rf):
    for username in ("admin", "manager", "rep", "rep2"):
        # django-axes, which throttles sign-ins, needs the request.
        user = authenticate(rf.post("/login/"), username=username, password=username)
        assert user is not None, username
        assert user.is_active


def test_seed_demo_puts_demo_users_in_their_roles(seeded):
    users = {u.username: u for u in get_user_model().objects.prefetch_related("groups")}

    assert {g.name for g in users["rep"].groups.all()} == {"Sales Rep"}
    assert {g.name for g in users["rep2"].groups.all()} == {"Sales Rep"}
    assert {g.name for g in users["manager"].groups.all()} == {"Sales Manager"}
    assert users["admin"].is_superuser and users["admin"].is_staff
    for name in ("manager", "rep", "rep2"):
        assert not users[name].is_superuser
        assert not users[name].is_staff


def test_seed_demo_creates_leads_in_every_state_and_status_reason(seeded):
    pairs = set(Lead.objects.values_list("state", "status_reason"))

    assert {state for state, _ in pairs} == set(Lead.State.values)
    assert {reason for _, reason in pairs} == set(Lead.StatusReason.values)


def test_seed_demo_creates_opportunities_at_every_stage_and_outcome(seeded):
    assert set(Opportunity.objects.values_list("stage__name", flat=True)) == {
        "Develop",
        "Propose",
        "Close",
    }
    assert set(Opportunity.objects.values_list("state", flat=True)) == set(Opportunity.State.values)
    assert Opportunity.objects.filter(state="open", stage__name="Close").exists()


def test_seed_demo_links_qualified_leads_to_what_qualifying_created(seeded):
    # Built through the services: every opportunity came from a qualified lead.
    for opportunity in Opportunity.objects.select_related("originating_lead"):
        lead = opportunity.originating_lead
        assert lead is not None
        assert lead.qualified_opportunity_id == opportunity.pk
        assert opportunity.customer is not None
    assert Lead.objects.filter(state="qualified", qualified_opportunity__isnull=True).exists()


def test_seed_demo_creates_notes_and_activities(seeded):
    assert Note.objects.filter(lead__isnull=False).exists()
    assert set(Activity.objects.values_list("type", flat=True)) >= {"phone_call", "task"}


def test_seed_demo_data_passes_model_validation(seeded):
    for model in (Account, Contact, Lead, Opportunity):
        for obj in model.objects.all():
            obj.full_clean()


def test_seed_demo_twice_changes_no_counts(seeded):
    before = counts()

    seed()

    assert counts() == before


def test_seed_demo_refuses_when_debug_is_off_and_not_forced(db, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=StringIO())

    assert not get_user_model().objects.exists()
    assert not Lead.objects.exists()


def test_seed_demo_runs_without_force_when_debug_is_on(db, settings):
    settings.DEBUG = True

    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())

    assert get_user_model().objects.filter(username="rep").exists()
    assert Lead.objects.exists()
