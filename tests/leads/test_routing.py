"""Routing rules: who gets a lead created without an owner (leads.routing, create_lead).

The race between parallel creates over one team rule runs on PostgreSQL with
real threads (the helpers of test_concurrency.py); everything else runs on both
databases.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from crm.models import OrganizationSettings
from leads import services
from leads.models import Lead, RoutingRule
from leads.routing import email_domain
from tests.factories import RepFactory, UserFactory
from tests.leads.test_concurrency import on_postgresql, race, reference_data, run_all  # noqa: F401

pytestmark = pytest.mark.django_db

LEAD = {"topic": "Tablets for the field team", "last_name": "Fuller"}
# What the new-lead form posts besides the lead's own fields.
FORM_DEFAULTS = {"rating": "warm", "status_reason": "new", "preferred_contact_method": "any"}


def make_rule(**fields) -> RoutingRule:
    fields.setdefault("name", f"Rule {RoutingRule.objects.count() + 1}")
    rule = RoutingRule(**fields)
    rule.full_clean()
    rule.save()
    return rule


def make_team(name: str, size: int) -> tuple[Group, list]:
    team = Group.objects.create(name=name)
    members = [RepFactory() for _ in range(size)]
    for member in members:
        member.groups.add(team)
    return team, sorted(members, key=lambda u: u.pk)


def create(user, **fields) -> Lead:
    return services.create_lead(user=user, **{**LEAD, **fields})


@pytest.fixture
def target(db):
    return RepFactory(username="routed_to")


# --- matching ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "matching", "other"),
    [
        ({"lead_source": "trade_show"}, {"lead_source": "trade_show"}, {"lead_source": "web"}),
        ({"industry": "consulting"}, {"industry": "consulting"}, {"industry": "education"}),
        ({"rating": "hot"}, {"rating": "hot"}, {"rating": "cold"}),
        (
            {"email_domain": "contoso.com"},
            {"email": "ann@contoso.com"},
            {"email": "ann@fabrikam.com"},
        ),
    ],
    ids=["lead_source", "industry", "rating", "email_domain"],
)
def test_each_condition_routes_only_matching_leads(manager, target, condition, matching, other):
    rule = make_rule(assign_to=target, **condition)

    routed = create(manager, **matching)
    unrouted = create(manager, **other)

    assert (routed.owner, routed.routed_by_rule) == (target, rule)
    assert routed.routed_at is not None
    assert (unrouted.owner, unrouted.routed_by_rule, unrouted.routed_at) == (manager, None, None)


def test_every_given_condition_must_match(manager, target):
    rule = make_rule(assign_to=target, lead_source="web", rating="hot", industry="consulting")

    assert create(manager, lead_source="web", rating="hot", industry="consulting").owner == target
    assert create(manager, lead_source="web", rating="hot", industry="education").owner == manager
    assert create(manager, lead_source="web", rating="cold", industry="consulting").owner == manager
    assert Lead.objects.filter(routed_by_rule=rule).count() == 1


def test_a_rule_without_conditions_takes_every_lead(manager, target):
    make_rule(assign_to=target)
    assert create(manager).owner == target


def test_the_lowest_order_wins_then_the_oldest_rule(manager, rep, rep2, target):
    make_rule(name="late", order=20, assign_to=rep, lead_source="web")
    first_of_equals = make_rule(name="first", order=10, assign_to=rep2, lead_source="web")
    make_rule(name="second", order=10, assign_to=target, lead_source="web")

    lead = create(manager, lead_source="web")

    assert (lead.owner, lead.routed_by_rule) == (rep2, first_of_equals)


def test_inactive_rules_are_skipped(manager, rep, target):
    make_rule(order=1, assign_to=rep, is_active=False)
    second = make_rule(order=2, assign_to=target)

    assert create(manager).routed_by_rule == second


def test_email_domain_is_case_insensitive_and_stored_lower_case(manager, target):
    rule = make_rule(assign_to=target, email_domain=" @Contoso.COM ")
    assert rule.email_domain == "contoso.com"

    assert create(manager, email="Ann.Lee@CONTOSO.com").owner == target


def test_email_domain_matches_the_whole_domain_only(manager, target):
    # A subdomain or a look-alike is another domain: list it in its own rule.
    make_rule(assign_to=target, email_domain="contoso.com")

    assert create(manager, email="ann@sales.contoso.com").owner == manager
    assert create(manager, email="ann@notcontoso.com").owner == manager
    assert create(manager).owner == manager  # no email at all


@pytest.mark.parametrize(
    ("email", "domain"),
    [("a@Contoso.com", "contoso.com"), ("", ""), ("no-at-sign", ""), ("@contoso.com", "")],
)
def test_email_domain_is_the_part_after_the_at(email, domain):
    assert email_domain(email) == domain


def test_a_rule_refuses_an_address_as_its_domain(target):
    with pytest.raises(ValidationError) as exc:
        make_rule(assign_to=target, email_domain="ann@contoso.com")
    assert "email_domain" in exc.value.message_dict


# --- the target -------------------------------------------------------------------------


def test_a_rule_needs_exactly_one_target(target):
    team = Group.objects.create(name="Inside sales")
    for fields in ({}, {"assign_to": target, "team": team}):
        with pytest.raises(ValidationError, match="either a user or a team"):
            make_rule(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoutingRule.objects.create(name="Both", assign_to=target, team=team)


def test_a_team_rule_deals_leads_round_robin_in_pk_order(manager):
    team, members = make_team("Inside sales", 3)
    rule = make_rule(team=team)

    owners = [create(manager).owner for _ in range(9)]

    assert owners == members * 3
    assert Counter(owners) == dict.fromkeys(members, 3)
    rule.refresh_from_db()
    assert rule.last_assigned == members[-1]


def test_round_robin_skips_inactive_members(manager):
    team, (first, second, third) = make_team("Inside sales", 3)
    second.is_active = False
    second.save()
    make_rule(team=team)

    assert [create(manager).owner for _ in range(4)] == [first, third, first, third]


def test_round_robin_carries_on_when_the_last_served_member_leaves_the_team(manager):
    team, (first, second, third) = make_team("Inside sales", 3)
    make_rule(team=team)
    assert [create(manager).owner for _ in range(2)] == [first, second]

    second.groups.remove(team)

    assert [create(manager).owner for _ in range(2)] == [third, first]


def test_an_inactive_user_target_passes_the_lead_to_the_next_rule(manager, target, rep):
    # Documented behaviour: a rule whose user cannot sign in is passed over, as if it
    # did not match; the next matching rule (or the fallback) takes the lead.
    target.is_active = False
    target.save()
    make_rule(order=1, assign_to=target)
    second = make_rule(order=2, assign_to=rep)

    assert (create(manager).owner, Lead.objects.get().routed_by_rule) == (rep, second)


def test_a_team_without_active_members_is_passed_over(manager, rep):
    team, members = make_team("Empty", 1)
    members[0].is_active = False
    members[0].save()
    make_rule(order=1, team=team)
    second = make_rule(order=2, assign_to=rep)

    assert create(manager).routed_by_rule == second


def test_a_refused_lead_takes_no_round_robin_turn(manager):
    team, members = make_team("Inside sales", 2)
    rule = make_rule(team=team)

    with pytest.raises(ValidationError):
        create(manager, topic="")

    rule.refresh_from_db()
    assert rule.last_assigned is None
    assert create(manager).owner == members[0]


# --- fallbacks and when routing applies -------------------------------------------------


def test_no_match_goes_to_the_default_lead_owner(org_settings, manager, target):
    org_settings.default_lead_owner = target
    org_settings.save()
    make_rule(assign_to=manager, lead_source="partner")

    lead = create(manager, lead_source="web")

    assert (lead.owner, lead.routed_by_rule, lead.routed_at) == (target, None, None)


def test_an_inactive_default_owner_leaves_the_lead_with_the_acting_user(org_settings, manager):
    org_settings.default_lead_owner = UserFactory(is_active=False)
    org_settings.save()

    assert create(manager).owner == manager


def test_without_rules_or_default_owner_the_acting_user_keeps_the_lead(rep):
    assert create(rep).owner == rep


def test_an_owner_given_is_never_routed(manager, rep, target):
    make_rule(assign_to=target)

    lead = create(manager, owner=rep)

    assert (lead.owner, lead.routed_by_rule, lead.routed_at) == (rep, None, None)


def test_routing_may_give_a_reps_lead_to_someone_else(rep, target):
    # Only a manager assigns leads by hand; an admin's rule assigns for everyone.
    rule = make_rule(assign_to=target)
    assert (create(rep).owner, Lead.objects.get().routed_by_rule) == (target, rule)


def test_the_history_records_the_rule(manager, target):
    rule = make_rule(assign_to=target)
    lead = create(manager)
    assert lead.history.get().routed_by_rule_id == rule.pk


def test_deleting_a_rule_keeps_its_leads(manager, target):
    rule = make_rule(assign_to=target)
    lead = create(manager)

    rule.delete()

    lead.refresh_from_db()
    assert (lead.owner, lead.routed_by_rule) == (target, None)


# --- the web pages ----------------------------------------------------------------------


def test_a_rep_creating_a_lead_on_the_form_keeps_it(client, rep, target):
    make_rule(assign_to=target)
    client.force_login(rep)

    response = client.post(reverse("leads:create"), {**LEAD, **FORM_DEFAULTS})

    assert response.status_code == 302
    assert (Lead.objects.get().owner, Lead.objects.get().routed_by_rule) == (rep, None)


def test_a_manager_leaving_the_owner_blank_routes_the_lead(client, manager, target):
    rule = make_rule(assign_to=target)
    client.force_login(manager)

    response = client.post(reverse("leads:create"), {**LEAD, **FORM_DEFAULTS, "owner": ""})

    assert response.status_code == 302
    assert (Lead.objects.get().owner, Lead.objects.get().routed_by_rule) == (target, rule)


def test_the_lead_page_shows_the_rule_that_assigned_it(client, rep, manager, target):
    make_rule(name="Trade shows to Ann", assign_to=target)
    routed = create(manager)
    kept = create(manager, owner=manager)
    client.force_login(rep)

    page = client.get(routed.get_absolute_url()).content.decode()
    assert "Assigned by rule Trade shows to Ann" in page
    assert "Assigned by rule" not in client.get(kept.get_absolute_url()).content.decode()


def test_the_admin_lists_rules_and_edits_order_and_activity(client, admin_user, target):
    rule = make_rule(name="Hot leads", assign_to=target, rating="hot", order=5)
    client.force_login(admin_user)

    page = client.get(reverse("admin:leads_routingrule_changelist"))
    assert page.status_code == 200
    assert "Rating: Hot" in page.content.decode()

    response = client.post(
        reverse("admin:leads_routingrule_changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": rule.pk,
            "form-0-order": "7",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.order, rule.is_active) == (7, False)


def test_the_organisation_settings_admin_sets_the_default_lead_owner(client, admin_user, target):
    settings = OrganizationSettings.load()
    client.force_login(admin_user)
    url = reverse("admin:crm_organizationsettings_change", args=[settings.pk])
    assert "default_lead_owner" in client.get(url).content.decode()


# --- parallel creates (PostgreSQL) ------------------------------------------------------


@on_postgresql
@race
def test_parallel_creates_share_a_team_exactly_evenly(reference_data):  # noqa: F811
    team = Group.objects.create(name="Inside sales")
    members = [RepFactory() for _ in range(3)]
    for member in members:
        member.groups.add(team)
    RoutingRule.objects.create(name="Everyone", team=team)
    creator = UserFactory()

    def six_creates():
        return [
            services.create_lead(user=creator, topic=f"Parallel {i}", last_name="Race").owner_id
            for i in range(6)
        ]

    outcomes = run_all([six_creates] * 8)

    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert not errors, errors
    assert Counter(owner for batch in outcomes for owner in batch) == {m.pk: 16 for m in members}
    assert Lead.objects.count() == 48
