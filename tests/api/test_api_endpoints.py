"""Every API operation, from the URL conf: anonymous calls answer 401, a
read-only token's writes 403, both as problem+json and changing nothing."""

import pytest
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from accounts.models import Account, Contact
from activities.models import Activity, Connection, Note
from api import services as token_services
from leads.models import Lead
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

DOCUMENTS = {"api:schema", "api:docs", "api:redoc"}  # public: the schema and its pages


def api_operations() -> list[tuple[str, str]]:
    """(URL name, method) of every API view, from the views' own handlers."""
    found = []

    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or namespace)
            elif isinstance(p, URLPattern) and namespace == "api":
                name = f"api:{p.name}"
                view = getattr(p.callback, "view_class", None)
                if name in DOCUMENTS or view is None:
                    continue
                for method in ("get", "post", "patch", "put", "delete"):
                    if hasattr(view, method):
                        found.append((name, method))

    walk(get_resolver().url_patterns, None)
    return found


OPERATIONS = api_operations()


def record_for(name: str, lead: Lead):
    """The record an operation acts on, of `lead`'s owner: the lead itself, or
    an opportunity, account, contact, note, activity or stakeholder of theirs."""
    owner = lead.owner
    if "opportunit" in name:
        return Opportunity.objects.filter(owner=owner).first() or OpportunityFactory(owner=owner)
    if "account" in name:
        return AccountFactory(owner=owner)
    if "contact" in name:
        return ContactFactory(owner=owner)
    if "note" in name:
        return NoteFactory(lead=lead)
    if "activit" in name:
        return ActivityFactory(lead=lead)
    if "stakeholder" in name:
        return ConnectionFactory(lead=lead, contact=ContactFactory(owner=owner))
    return lead


def url_of(name: str, lead: Lead) -> str:
    try:
        return reverse(name, args=[record_for(name, lead).pk])
    except NoReverseMatch:
        return reverse(name)


SNAPSHOT = (Lead, Opportunity, Account, Contact, Note, Activity, Connection)


def snapshot() -> list:
    return [list(model.objects.order_by("pk").values()) for model in SNAPSHOT]


BODIES = {
    "api:lead_disqualify": {"status_reason": "lost"},
    "api:opportunity_close": {"won": True},
    "api:leads_disqualify": {"leads": [], "status_reason": "lost"},  # the lead's id is set below
    "api:leads_qualify": {"leads": []},
}


def change_of(name: str) -> dict:
    """A change the operation's record has a field for (an unknown one is a 400)."""
    for kind, change in (
        ("opportunit", {"name": "X"}),
        ("account", {"name": "X"}),
        ("contact", {"last_name": "Y"}),
        ("note", {"text": "X"}),
        ("activit", {"subject": "X"}),
        ("stakeholder", {}),
    ):
        if kind in name:
            return change
    return {"topic": "X", "last_name": "Y"}


# A record of one's own may be created (or refused for a missing field).
CREATES = {
    "api:leads",
    "api:opportunities",
    "api:accounts",
    "api:contacts",
    "api:notes",
    "api:activities",
    "api:stakeholders",
}
BULK = {"api:leads_qualify", "api:leads_disqualify"}  # an outcome per lead


def test_every_api_view_is_found():
    assert ("api:leads", "get") in OPERATIONS and ("api:lead_qualify", "post") in OPERATIONS


@pytest.mark.parametrize("name,method", OPERATIONS)
def test_anonymous_calls_answer_401(rep, name, method):
    url = url_of(name, LeadFactory(owner=rep))
    before = snapshot()
    response = getattr(APIClient(), method)(url, {}, format="json")
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == "Bearer"
    assert snapshot() == before


@pytest.mark.parametrize("name,method", [op for op in OPERATIONS if op[1] != "get"])
def test_a_read_only_token_may_not_write(rep, name, method):
    lead = LeadFactory(owner=rep)
    _, key = token_services.create_token(user=rep, name="ro", read_only=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    url = url_of(name, lead)
    before = snapshot()
    response = getattr(client, method)(url, {"topic": "X"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert snapshot() == before


@pytest.mark.parametrize("name,method", [op for op in OPERATIONS if op[1] != "get"])
def test_another_rep_changes_nothing(rep, rep2, name, method):
    lead = LeadFactory(owner=rep)
    _, key = token_services.create_token(user=rep2, name="rw", read_only=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    url = url_of(name, lead)
    before = snapshot()
    changes = method == "patch" or name in CREATES
    data = BODIES.get(name, change_of(name) if changes else {})  # an action: its defaults
    if name in BULK:
        data = {**data, "leads": [lead.pk]}
    response = getattr(client, method)(url, data, format="json")
    if name in CREATES and method == "post":
        assert response.status_code in (201, 400)  # their own record, or a missing field
        return
    if name in BULK:
        assert response.status_code == 200, response.content
        [outcome] = response.json()["outcomes"]
        assert not outcome["ok"] and outcome["problem"]["code"] == "permission_denied"
    else:
        assert response.status_code in (403, 404), response.content
    assert snapshot() == before
