"""Synthetic lead histories for the scoring tests: closed leads spread over the
last two years, qualified with a planted signal or by a coin."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from leads.models import Lead

SOURCES = ("web", "external_referral", "trade_show", "advertisement", "partner", "other")
INDUSTRIES = ("finance", "retail", "technology", "healthcare", "education")


def planted_chance(lead: Lead) -> float:
    """What the planted signal gives a lead: the web, referrals, a known
    decision maker and a big budget help; a free-mail address hurts."""
    logit = -1.0
    logit += {"web": 1.6, "external_referral": 1.2, "advertisement": -1.0, "other": -0.8}.get(
        lead.lead_source, 0.0
    )
    logit += 1.5 if lead.decision_maker_identified else -0.5
    logit += 1.0 if (lead.budget_amount or 0) >= 50_000 else -0.3
    logit -= 1.4 if lead.email.endswith("@gmail.com") else 0.0
    return 1 / (1 + math.exp(-logit))


def make_leads(owner, n: int, *, rng: random.Random, state: str = "open", days_back=(1, 700)):
    """`n` leads of `owner` with varied fields (not saved)."""
    now = timezone.now()
    leads = []
    for i in range(n):
        created = now - timedelta(days=rng.uniform(*days_back), hours=rng.uniform(0, 23))
        company = f"Company {i} {rng.randint(1, 10**6)}"
        free = rng.random() < 0.35
        lead = Lead(
            topic=f"Deal {i}",
            last_name=f"Person{i}",
            company_name=company,
            email=f"p{i}@gmail.com" if free else f"p{i}@company{i}.example",
            business_phone="+1 555 0100" if rng.random() < 0.7 else "",
            job_title=rng.choice(["CEO", "Sales Manager", "Engineer", "", "Director of IT"]),
            lead_source=rng.choice(SOURCES),
            industry=rng.choice(INDUSTRIES),
            rating=rng.choice(["hot", "warm", "cold"]),
            budget_amount=Decimal(rng.choice([5_000, 20_000, 60_000, 150_000])),
            decision_maker_identified=rng.random() < 0.5,
            owner=owner,
            state=Lead.State.OPEN,
            status_reason=Lead.StatusReason.NEW,
            created_at=created,
        )
        leads.append(lead)
    return leads


def closed_history(owner, n: int, *, signal: bool, seed: int = 7) -> list[Lead]:
    """`n` leads closed over the last two years, stored: qualified with the
    planted chance (`signal`), else with an even 40 % whatever they are."""
    rng = random.Random(seed)
    leads = make_leads(owner, n, rng=rng, days_back=(30, 700))
    for lead in leads:
        chance = planted_chance(lead) if signal else 0.4
        closed = lead.created_at + timedelta(days=rng.uniform(1, 29))
        if rng.random() < chance:
            lead.state, lead.status_reason = Lead.State.QUALIFIED, Lead.StatusReason.QUALIFIED
            lead.qualified_at = closed
        else:
            lead.state, lead.status_reason = Lead.State.DISQUALIFIED, Lead.StatusReason.LOST
            lead.disqualified_at = closed
    return Lead.objects.bulk_create(leads)
