"""Which user a lead created without an owner goes to: the routing rules.

`route_lead` tries the active rules by `order`, then pk, and takes the first
whose conditions all match the lead (a blank condition matches anything). A
rule whose target cannot take a lead right now (an inactive user, a team with
no active member) is passed over, so the next matching rule gets its chance.

A team rule deals leads round-robin to the team's active members in pk order.
Its state (the member who got the last lead) is read and written under a row
lock on the rule, inside the caller's transaction: parallel creates queue on
that lock, so on PostgreSQL none skips or doubles a member, and a create that
rolls back gives its turn back. What happens when nothing matches (the
organisation's default owner, the acting user) is decided by
`leads.services.create_lead`.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from .models import Lead, RoutingRule


def email_domain(email: str) -> str:
    """The part of an address after the last @, lower case ("" without one)."""
    local, at, domain = email.strip().rpartition("@")
    return domain.lower() if at and local else ""


def rule_matches(rule: RoutingRule, lead: Lead) -> bool:
    """Whether every condition the rule gives holds for the lead."""
    return (
        (not rule.lead_source or rule.lead_source == lead.lead_source)
        and (not rule.industry or rule.industry == lead.industry)
        and (not rule.rating or rule.rating == lead.rating)
        and (not rule.email_domain or rule.email_domain.lower() == email_domain(lead.email))
    )


def route_lead(lead: Lead) -> tuple[AbstractBaseUser | None, RoutingRule | None]:
    """The owner the routing rules give `lead`, and the rule that gave it.

    (None, None) when no active rule matches or no matching rule's target can
    take the lead. Advances a team rule's round-robin, so call it inside the
    transaction that saves the lead.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("route_lead must run inside the transaction that creates the lead.")
    rules = RoutingRule.objects.filter(is_active=True).select_related("assign_to")
    for rule in rules.order_by("order", "pk"):
        if not rule_matches(rule, lead):
            continue
        if rule.assign_to_id is not None:
            if rule.assign_to.is_active:
                return rule.assign_to, rule
            continue
        member = _next_team_member(rule)
        if member is not None:
            return member, rule
    return None, None


def _next_team_member(rule: RoutingRule) -> AbstractBaseUser | None:
    """The team member after the last one served (in pk order, wrapping round)."""
    # The lock makes the read of last_assigned and its update one step for
    # every other create routed by this rule; they wait here until we commit.
    locked = (
        RoutingRule.objects.select_for_update()
        .filter(pk=rule.pk, is_active=True, team__isnull=False)
        .first()
    )
    if locked is None:  # deactivated or changed since the rules were read
        return None
    members = get_user_model().objects.filter(groups=locked.team_id, is_active=True).order_by("pk")
    member = None
    if locked.last_assigned_id is not None:
        member = members.filter(pk__gt=locked.last_assigned_id).first()
    if member is None:
        member = members.first()
    if member is None:
        return None
    locked.last_assigned = member
    locked.save(update_fields=["last_assigned"])
    return member
