"""The REST API for leads: tokens, the list, a lead's version, and the lifecycle
actions through the same services, with problem+json refusals."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Account, Contact
from api import services as token_services
from api.models import ApiToken
from leads.models import Lead, Rating
from opportunities.models import Opportunity
from tests.concurrency import on_postgresql, race, run_all
from tests.factories import AccountFactory, ContactFactory, LeadFactory, RepFactory, currency
from tests.reference_data import restore_reference_data

pytestmark = pytest.mark.django_db


def client_for(user, *, read_only=False, **kwargs) -> APIClient:
    _, key = token_services.create_token(user=user, name="tests", read_only=read_only, **kwargs)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_a_token_is_shown_once_stored_hashed_and_acts_as_its_user(rep):
    token, key = token_services.create_token(user=rep, name="Website", read_only=False)
    assert key.startswith("ll_") and len(key) > 40
    stored = ApiToken.objects.get()
    assert key not in (stored.key_hash, stored.key_start) and stored.key_start == key[:10]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.post(reverse("api:leads"), {"topic": "From the site", "last_name": "Ng"})
    assert response.status_code == 201, response.content
    assert Lead.objects.get(topic="From the site").owner == rep
    stored.refresh_from_db()
    assert stored.last_used_at is not None


@pytest.mark.parametrize("state", ["none", "wrong", "revoked", "expired"])
def test_no_valid_token_answers_401_as_problem_json(rep, state):
    client = APIClient()
    if state == "wrong":
        client.credentials(HTTP_AUTHORIZATION="Bearer ll_not-a-token")
    elif state != "none":
        token, key = token_services.create_token(user=rep, name="t", read_only=False)
        if state == "revoked":
            token_services.revoke_token(token=token, user=rep)
        else:
            ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.get(reverse("api:leads"))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401 and response.json()["code"]


def test_a_read_only_token_reads_and_may_not_write(rep):
    client = client_for(rep, read_only=True)
    assert client.get(reverse("api:leads")).status_code == 200
    response = client.post(reverse("api:leads"), {"topic": "No", "last_name": "Ng"})
    assert response.status_code == 403 and "read-only" in response.json()["detail"]
    assert not Lead.objects.filter(topic="No").exists()


def test_the_list_filters_sorts_and_pages_like_the_lead_list(rep, rep2):
    for i in range(5):
        LeadFactory(owner=rep, topic=f"Hot {i}", rating=Rating.HOT)
    LeadFactory(owner=rep, topic="Cold", rating=Rating.COLD)
    LeadFactory(owner=rep2, topic="Not mine", rating=Rating.HOT)
    client = client_for(rep, read_only=True)

    first = client.get(
        reverse("api:leads"), {"view": "my", "rating": "hot", "sort": "topic", "limit": 2}
    )
    assert first.status_code == 200
    assert [lead["topic"] for lead in first.json()["results"]] == ["Hot 0", "Hot 1"]
    topics = []
    page = first.json()
    while True:
        topics += [lead["topic"] for lead in page["results"]]
        if not page["next"]:
            break
        page = client.get(page["next"]).json()
    assert topics == [f"Hot {i}" for i in range(5)]
    assert first.json()["results"][0]["currency"] in (None, "USD", "EUR", "GBP")


def test_the_list_reads_a_page_in_a_few_queries(rep, django_assert_max_num_queries):
    for _ in range(30):
        LeadFactory(owner=rep, currency=currency("EUR"))
    client = client_for(rep, read_only=True)
    client.get(reverse("api:leads"), {"limit": 100})  # the token's last use is written once
    with django_assert_max_num_queries(6):
        response = client.get(reverse("api:leads"), {"limit": 100})
    assert len(response.json()["results"]) == 30


@pytest.mark.parametrize("limit", ["0", "201", "many"])
def test_a_bad_limit_is_a_400_problem(rep, limit):
    response = client_for(rep).get(reverse("api:leads"), {"limit": limit})
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert "limit" in response.json()["errors"]


def test_an_update_with_a_stale_version_is_refused_with_412(rep):
    lead = LeadFactory(owner=rep, topic="Before")
    client = client_for(rep)
    read = client.get(reverse("api:lead", args=[lead.pk]))
    etag = read["ETag"]

    changed = client.patch(
        reverse("api:lead", args=[lead.pk]), {"topic": "First"}, format="json", HTTP_IF_MATCH=etag
    )
    assert changed.status_code == 200 and changed["ETag"] != etag
    stale = client.patch(
        reverse("api:lead", args=[lead.pk]), {"topic": "Second"}, format="json", HTTP_IF_MATCH=etag
    )
    assert stale.status_code == 412 and stale.json()["code"] == "lead_changed"
    lead.refresh_from_db()
    assert lead.topic == "First"


def test_another_reps_lead_cannot_be_changed(rep, rep2):
    lead = LeadFactory(owner=rep, topic="Mine")
    response = client_for(rep2).patch(
        reverse("api:lead", args=[lead.pk]), {"topic": "Taken"}, format="json"
    )
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    lead.refresh_from_db()
    assert lead.topic == "Mine"


def test_qualify_with_a_duplicate_answers_409_then_links_the_chosen_account(rep):
    existing = AccountFactory(name="Contoso Ltd")
    lead = LeadFactory(owner=rep, company_name="Contoso Ltd", email="ann@contoso.example")
    client = client_for(rep)
    url = reverse("api:lead_qualify", args=[lead.pk])
    body = {"create_account": True, "create_contact": True, "create_opportunity": True}

    duplicate = client.post(url, {**body, "currency": "USD"}, format="json")
    assert duplicate.status_code == 409, duplicate.content
    problem = duplicate.json()
    assert problem["code"] == "duplicates_found"
    assert problem["accounts"] == [{"id": existing.pk, "name": "Contoso Ltd"}]
    assert not Opportunity.objects.exists()

    done = client.post(
        url, {**body, "currency": "USD", "existing_account": existing.pk}, format="json"
    )
    assert done.status_code == 200, done.content
    answer = done.json()
    assert answer["account"] == existing.pk and answer["lead"]["state"] == "qualified"
    assert answer["created_account"] is False and answer["created_contact"] is True
    assert Opportunity.objects.get(pk=answer["opportunity"]).account == existing
    assert Account.objects.count() == 1

    again = client.post(url, body, format="json")
    assert again.status_code == 409 and again.json()["code"] == "lead_not_open"


def test_disqualify_and_reactivate(rep):
    lead = LeadFactory(owner=rep)
    client = client_for(rep)
    bad = client.post(
        reverse("api:lead_disqualify", args=[lead.pk]), {"status_reason": "won"}, format="json"
    )
    assert bad.status_code == 400 and "status_reason" in bad.json()["errors"]
    done = client.post(
        reverse("api:lead_disqualify", args=[lead.pk]), {"status_reason": "lost"}, format="json"
    )
    assert done.status_code == 200 and done.json()["state"] == "disqualified"
    back = client.post(reverse("api:lead_reactivate", args=[lead.pk]))
    assert back.status_code == 200 and back.json()["status_reason"] == "new"
    twice = client.post(reverse("api:lead_reactivate", args=[lead.pk]))
    assert twice.status_code == 409 and twice.json()["code"] == "lead_not_inactive"


def test_the_schema_and_its_pages_are_served_without_a_cdn(client, rep):
    schema = client.get(reverse("api:schema"), {"format": "json"})
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/leads/{id}/qualify" in document["paths"]
    client.force_login(rep)
    docs = client.get(reverse("api:docs")).content.decode()
    assert "cdn" not in docs.lower() and "/static/drf_spectacular_sidecar/" in docs


def test_the_session_works_with_csrf(rep):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(rep)
    assert client.get(reverse("api:leads")).status_code == 200
    refused = client.post(reverse("api:leads"), {"topic": "X", "last_name": "Y"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]


def test_an_expiry_in_the_past_is_refused(rep):
    with pytest.raises(Exception, match="future"):
        token_services.create_token(
            user=rep, name="old", read_only=True, expires_at=timezone.now() - timedelta(days=1)
        )


def test_the_tokens_page_shows_a_new_key_once_and_revokes(client, rep, rep2):
    client.force_login(rep)
    page = client.post(reverse("tokens:list"), {"name": "Warehouse", "access": "read"})
    key = page.context["new_key"]
    assert key and key in page.content.decode()
    assert key not in client.get(reverse("tokens:list")).content.decode()  # shown once
    token = ApiToken.objects.get(user=rep)
    assert token.read_only and token.name == "Warehouse"
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get(reverse("api:leads")).status_code == 200

    client.force_login(rep2)
    assert client.post(reverse("tokens:revoke", args=[token.pk])).status_code == 403
    client.force_login(rep)
    client.post(reverse("tokens:revoke", args=[token.pk]))
    assert api.get(reverse("api:leads")).status_code == 401


def test_a_token_may_expire_on_a_date(client, rep):
    client.force_login(rep)
    past = client.post(
        reverse("tokens:list"), {"name": "Old", "access": "write", "expires_on": "2020-01-01"}
    )
    assert "must be in the future" in past.content.decode() and not ApiToken.objects.exists()
    client.post(
        reverse("tokens:list"), {"name": "Year", "access": "write", "expires_on": "2099-01-01"}
    )
    token = ApiToken.objects.get()
    assert token.expires_at.year == 2099 and not token.read_only


def test_the_schema_is_valid_openapi_and_complete(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for operation in ("leads_list", "leads_qualify", "leads_disqualify", "leads_reactivate"):
        assert f"operationId: {operation}" in text
    assert "bearerAuth" in text


def test_a_repeated_idempotency_key_returns_the_first_answer_and_does_nothing(rep):
    from api.models import IdempotencyKey

    client = client_for(rep)
    body = {"topic": "Once", "last_name": "Ng"}
    first = client.post(reverse("api:leads"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(reverse("api:leads"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert Lead.objects.filter(topic="Once").count() == 1

    other = client.post(
        reverse("api:leads"), {**body, "topic": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"

    lead = LeadFactory(owner=rep)
    url = reverse("api:lead_disqualify", args=[lead.pk])
    refused = client.post(url, {"status_reason": "won"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.filter(key="k-2").exists()  # nothing done, nothing kept
    done = client.post(url, {"status_reason": "lost"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    repeat = client.post(url, {"status_reason": "lost"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert done.status_code == repeat.status_code == 200  # not 409 "already disqualified"
    assert repeat.json()["state"] == "disqualified"


def test_old_idempotency_keys_are_forgotten(rep):
    from api import idempotency
    from api.models import IdempotencyKey

    IdempotencyKey.objects.create(user=rep, key="old", fingerprint="x", status=200, body={})
    assert idempotency.prune(now=timezone.now() + timedelta(hours=25)) == 1


def test_each_token_is_throttled_on_its_own(rep, monkeypatch):
    from api.throttles import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "3/min"})
    busy, other = client_for(rep), client_for(rep)
    answers = [busy.get(reverse("api:leads")).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = busy.get(reverse("api:leads"))
    assert refused.json()["code"] == "throttled" and int(refused["Retry-After"]) > 0
    assert other.get(reverse("api:leads")).status_code == 200  # its own count


def test_the_read_only_lists(rep, django_assert_max_num_queries):
    client = client_for(rep, read_only=True)
    codes = [c["code"] for c in client.get(reverse("api:currencies")).json()]
    assert "USD" in codes and codes == sorted(codes)
    users = client.get(reverse("api:users")).json()
    assert {"id": rep.pk, "username": "rep", "name": rep.get_full_name() or "rep"} in users
    with django_assert_max_num_queries(3):
        flows = client.get(reverse("api:process_flows")).json()
    default = next(f for f in flows if f["is_default"])
    assert [s["name"] for s in default["stages"]][:2] == ["Qualify", "Develop"]
    choices = client.get(reverse("api:choices")).json()
    assert {"value": "lost", "label": "Lost"} in choices["disqualify_reason"]
    assert {c["value"] for c in choices["rating"]} >= {"hot", "warm", "cold"}


@on_postgresql
@race
def test_one_idempotency_key_sent_twice_at_once_does_the_action_once():
    """Five retries of one create, racing: the key's row makes them wait for the
    first, which creates the lead; the others answer its answer, replayed."""
    restore_reference_data()
    rep = RepFactory()
    _, key = token_services.create_token(user=rep, name="race", read_only=False)

    def create():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        body = {"topic": "Raced", "last_name": "Once"}
        return client.post(reverse("api:leads"), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    answers = run_all([create] * 5)
    assert [a.status_code for a in answers] == [201] * 5, answers
    assert Lead.objects.filter(topic="Raced").count() == 1
    assert {a.json()["id"] for a in answers} == {Lead.objects.get(topic="Raced").pk}
    assert sum(a.get("Idempotent-Replayed") == "true" for a in answers) == 4


@pytest.mark.parametrize(
    "params,field",
    [
        ({"view": "bogus"}, "view"),
        ({"sort": "bogus"}, "sort"),
        ({"rating": "lukewarm"}, "rating"),
        ({"lead_source": "bogus"}, "lead_source"),
        ({"owner": "abc"}, "owner"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"cursor": "garbage"}, "cursor"),
    ],
)
def test_a_filter_the_list_cannot_read_is_a_400_not_all_leads(rep, params, field):
    """The list page drops such a filter; an API client would take every lead
    for the few it asked for."""
    LeadFactory(owner=rep)
    response = client_for(rep).get(reverse("api:leads"), params)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_a_cursor_from_another_sort_is_refused(rep):
    for _ in range(3):
        LeadFactory(owner=rep)
    client = client_for(rep)
    page = client.get(reverse("api:leads"), {"sort": "topic", "limit": 1}).json()
    assert page["next"]
    moved = page["next"].replace("sort=topic", "sort=created")
    assert client.get(moved).status_code == 400


def test_my_open_leads_scored_pages_by_its_own_sort(rep):
    """The view's default sort is the score: its cursor is read with that sort."""
    for _ in range(3):
        LeadFactory(owner=rep)
    client = client_for(rep)
    page = client.get(reverse("api:leads"), {"view": "scored", "limit": 1}).json()
    assert page["next"]
    following = client.get(page["next"])
    assert following.status_code == 200, following.content
    assert following.json()["results"][0]["id"] != page["results"][0]["id"]


@pytest.mark.parametrize(
    "body",
    [
        "[" * 5000 + "]" * 5000,
        '{"topic": ' + "[" * 5000 + "]" * 5000 + "}",
    ],
)
def test_json_nested_too_deeply_is_a_400_not_a_500(rep, body):
    lead = LeadFactory(owner=rep)
    client = client_for(rep)
    for url in (reverse("api:leads"), reverse("api:lead_qualify", args=[lead.pk])):
        response = client.generic("POST", url, body, content_type="application/json")
        assert response.status_code == 400 and response.json()["code"] == "parse_error"
    lead.refresh_from_db()
    assert lead.state == Lead.State.OPEN


def test_a_field_the_operation_does_not_have_is_refused_and_changes_nothing(rep):
    lead = LeadFactory(owner=rep)
    client = client_for(rep)
    typo = client.post(
        reverse("api:lead_qualify", args=[lead.pk]),
        {"create_acount": False, "create_contac": False},
        format="json",
    )
    assert typo.status_code == 400
    assert set(typo.json()["errors"]) == {"create_acount", "create_contac"}
    lead.refresh_from_db()
    assert lead.state == Lead.State.OPEN and not Account.objects.exists()
    # What was read may be sent back: read-only fields are known, and ignored.
    read = client.get(reverse("api:lead", args=[lead.pk])).json()
    changed = client.patch(
        reverse("api:lead", args=[lead.pk]), {**read, "topic": "Solar roof"}, format="json"
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["topic"] == "Solar roof" and changed.json()["state"] == "open"


def test_a_bug_under_the_api_answers_problem_json(rep, client, settings):
    from api.problems import server_error

    request = client.get("/").wsgi_request
    request.path = "/api/v1/leads/"
    response = server_error(request)
    assert response.status_code == 500 and response["Content-Type"] == "application/problem+json"


def test_an_account_chosen_still_checks_the_new_contact_for_duplicates(rep):
    existing = AccountFactory(name="Contoso Ltd")
    kept = ContactFactory(first_name="Ann", last_name="Lee", email="ann@contoso.example")
    lead = LeadFactory(
        owner=rep,
        company_name="Contoso Ltd",
        first_name="Ann",
        last_name="Lee",
        email="ann@contoso.example",
    )
    client = client_for(rep)
    url = reverse("api:lead_qualify", args=[lead.pk])
    body = {"create_contact": True, "currency": "USD", "existing_account": existing.pk}

    duplicate = client.post(url, body, format="json")
    assert duplicate.status_code == 409, duplicate.content
    assert [c["id"] for c in duplicate.json()["contacts"]] == [kept.pk]
    assert duplicate.json()["accounts"] == []  # the account is chosen: nothing to make
    done = client.post(url, {**body, "existing_contact": kept.pk}, format="json")
    assert done.status_code == 200 and done.json()["contact"] == kept.pk
    assert Contact.objects.count() == 1


def test_an_action_or_a_delete_with_a_stale_if_match_is_refused_and_does_nothing(rep):
    lead = LeadFactory(owner=rep)
    client = client_for(rep)
    read = client.get(reverse("api:lead", args=[lead.pk]))
    client.patch(reverse("api:lead", args=[lead.pk]), {"topic": "Changed"}, format="json")
    stale = {"HTTP_IF_MATCH": read["ETag"]}
    for url, body in (
        (reverse("api:lead_disqualify", args=[lead.pk]), {"status_reason": "lost"}),
        (reverse("api:lead_qualify", args=[lead.pk]), {}),
    ):
        refused = client.post(url, body, format="json", **stale)
        assert refused.status_code == 412 and refused.json()["code"] == "lead_changed"
    refused = client.delete(reverse("api:lead", args=[lead.pk]), **stale)
    assert refused.status_code == 412
    lead.refresh_from_db()
    assert lead.state == Lead.State.OPEN
    current = {"HTTP_IF_MATCH": client.get(reverse("api:lead", args=[lead.pk]))["ETag"]}
    done = client.post(
        reverse("api:lead_disqualify", args=[lead.pk]),
        {"status_reason": "lost"},
        format="json",
        **current,
    )
    assert done.status_code == 200 and done.json()["state"] == "disqualified"
