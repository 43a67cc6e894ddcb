"""The public web-to-lead endpoint: a website's form posts leads without signing in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leads import web_to_lead
from leads.models import Lead, RoutingRule, WebToLeadForm, WebToLeadPost
from leads.public_views import HONEYPOT_FIELD
from tests.factories import RepFactory

pytestmark = pytest.mark.django_db

POST = {
    "first_name": "Ann",
    "last_name": "Lee",
    "company_name": "Contoso",
    "email": "ann.lee@contoso.com",
    "job_title": "Buyer",
    "description": "Please call me about 200 tablets.",
    "industry": "consulting",
}


@pytest.fixture
def default_owner(org_settings):
    owner = RepFactory(username="web_leads")
    org_settings.default_lead_owner = owner
    org_settings.save()
    return owner


@pytest.fixture
def form(db):
    return WebToLeadForm.objects.create(name="Contact us")


@pytest.fixture
def csrf_client():
    """A browser on another site: anonymous, and Django checks CSRF as it would."""
    return Client(enforce_csrf_checks=True)


def url(form: WebToLeadForm, **query) -> str:
    path = reverse("web_to_lead", args=[form.token])
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_a_post_creates_an_open_new_web_lead_for_the_default_owner(
    csrf_client, form, default_owner
):
    response = csrf_client.post(url(form), POST)

    assert response.status_code == 201
    assert response.json() == {"ok": True}
    lead = Lead.objects.get()
    assert (lead.state, lead.status_reason, lead.lead_source) == ("open", "new", "web")
    assert (lead.first_name, lead.company_name, lead.email) == ("Ann", "Contoso", POST["email"])
    assert lead.topic == web_to_lead.WEB_LEAD_DEFAULT_TOPIC
    assert lead.owner == default_owner
    assert lead.history.get().history_user is None


def test_a_web_lead_is_routed_by_the_rules(csrf_client, form, default_owner):
    ann = RepFactory()
    rule = RoutingRule.objects.create(name="Contoso", email_domain="contoso.com", assign_to=ann)

    csrf_client.post(url(form), {**POST, "topic": "Tablets"})

    lead = Lead.objects.get()
    assert (lead.owner, lead.routed_by_rule, lead.topic) == (ann, rule, "Tablets")


def test_the_form_sets_the_lead_source(csrf_client, default_owner):
    form = WebToLeadForm.objects.create(name="Trade show kiosk", lead_source="trade_show")
    csrf_client.post(url(form), POST)
    assert Lead.objects.get().lead_source == "trade_show"


def test_a_post_cannot_set_fields_a_website_form_does_not_have(csrf_client, form, default_owner):
    rep = RepFactory()
    csrf_client.post(
        url(form), {**POST, "owner": rep.pk, "state": "qualified", "lead_source": "partner"}
    )
    lead = Lead.objects.get()
    assert (lead.owner, lead.state, lead.lead_source) == (default_owner, "open", "web")


def test_an_unknown_token_is_404(csrf_client, default_owner):
    response = csrf_client.post(reverse("web_to_lead", args=["no-such-token"]), POST)
    assert response.status_code == 404
    assert "error" in response.json()
    assert not Lead.objects.exists()


def test_an_inactive_form_is_404(csrf_client, form, default_owner):
    form.is_active = False
    form.save()
    assert csrf_client.post(url(form), POST).status_code == 404
    assert not Lead.objects.exists()


def test_get_is_405(csrf_client, form):
    assert csrf_client.get(url(form)).status_code == 405


def test_no_sign_in_and_no_csrf_token_are_needed(csrf_client, form, default_owner):
    # csrf_client is anonymous and enforces CSRF; the post has neither cookie nor token.
    response = csrf_client.post(url(form), POST)
    assert response.status_code == 201
    assert "Location" not in response


def test_a_filled_honeypot_gets_the_usual_answer_and_creates_nothing(
    csrf_client, form, default_owner
):
    real = csrf_client.post(url(form), POST)
    bot = csrf_client.post(url(form), {**POST, HONEYPOT_FIELD: "http://spam.example"})

    assert (bot.status_code, bot.json()) == (real.status_code, real.json())
    assert Lead.objects.count() == 1


def test_a_filled_honeypot_redirects_like_a_real_post(csrf_client, default_owner):
    form = WebToLeadForm.objects.create(name="Site", thank_you_url="https://example.com/thanks")
    bot = csrf_client.post(url(form), {**POST, HONEYPOT_FIELD: "x"})
    assert (bot.status_code, bot["Location"]) == (303, "https://example.com/thanks")
    assert not Lead.objects.exists()


def test_invalid_data_is_400_with_field_errors_and_saves_nothing(csrf_client, form, default_owner):
    response = csrf_client.post(url(form), {**POST, "email": "not-an-email"})

    assert response.status_code == 400
    assert "email" in response.json()["errors"]
    assert not Lead.objects.exists()


def test_a_post_without_a_name_or_company_is_400(csrf_client, form, default_owner):
    response = csrf_client.post(url(form), {"email": "ann@contoso.com"})

    assert response.status_code == 400
    assert response.json()["errors"]["__all__"] == [
        "Enter a first or last name, or a company name."
    ]
    assert not Lead.objects.exists()


def test_without_a_rule_or_default_owner_the_post_is_refused(csrf_client, form, caplog):
    response = csrf_client.post(url(form), POST)

    assert response.status_code == 503
    assert not Lead.objects.exists()
    assert "no active default lead owner" in caplog.text


def test_a_thank_you_page_gets_a_303_redirect(csrf_client, default_owner):
    form = WebToLeadForm.objects.create(name="Site", thank_you_url="https://example.com/thanks")

    response = csrf_client.post(url(form), POST)

    assert (response.status_code, response["Location"]) == (303, "https://example.com/thanks")
    assert Lead.objects.count() == 1


@pytest.mark.parametrize("how", ["accept", "query"])
def test_a_json_request_gets_json_even_with_a_thank_you_page(csrf_client, default_owner, how):
    form = WebToLeadForm.objects.create(name="Site", thank_you_url="https://example.com/thanks")

    if how == "accept":
        response = csrf_client.post(url(form), POST, headers={"Accept": "application/json"})
    else:
        response = csrf_client.post(url(form, format="json"), POST)

    assert (response.status_code, response.json()) == (201, {"ok": True})


def test_the_rate_limit_answers_429_after_n_posts_per_address(
    csrf_client, form, default_owner, settings
):
    settings.WEB_TO_LEAD_RATE_LIMIT = 3

    answers = [csrf_client.post(url(form), POST).status_code for _ in range(4)]

    assert answers == [201, 201, 201, 429]
    assert "error" in csrf_client.post(url(form), POST).json()
    assert Lead.objects.count() == 3
    # Another address, and another form from the same address, are not held back.
    assert csrf_client.post(url(form), POST, REMOTE_ADDR="10.0.0.2").status_code == 201
    other = WebToLeadForm.objects.create(name="Other")
    assert csrf_client.post(url(other), POST).status_code == 201


def test_bots_and_bad_posts_count_towards_the_rate_limit(
    csrf_client, form, default_owner, settings
):
    settings.WEB_TO_LEAD_RATE_LIMIT = 2
    csrf_client.post(url(form), {**POST, HONEYPOT_FIELD: "x"})
    csrf_client.post(url(form), {**POST, "email": "bad"})
    assert csrf_client.post(url(form), POST).status_code == 429


def test_the_rate_limit_window_slides_and_old_posts_are_pruned(
    csrf_client, form, default_owner, settings
):
    settings.WEB_TO_LEAD_RATE_LIMIT = 1
    csrf_client.post(url(form), POST)
    WebToLeadPost.objects.update(created_at=timezone.now() - timedelta(minutes=11))

    assert csrf_client.post(url(form), POST).status_code == 201
    assert WebToLeadPost.objects.count() == 1


def test_a_thank_you_page_must_be_http(form):
    form.thank_you_url = "javascript:alert(1)"
    with pytest.raises(ValidationError, match="valid URL"):
        form.full_clean()
    form.thank_you_url = "ftp://example.com/thanks"
    with pytest.raises(ValidationError, match="valid URL"):
        form.full_clean()


def test_each_form_gets_its_own_random_token(db):
    a, b = WebToLeadForm.objects.create(name="A"), WebToLeadForm.objects.create(name="B")
    assert a.token != b.token and len(a.token) >= 32


def test_the_admin_shows_the_token_read_only_and_the_endpoint(client, admin_user, form):
    client.force_login(admin_user)
    page = client.get(reverse("admin:leads_webtoleadform_change", args=[form.pk]))
    content = page.content.decode()
    assert page.status_code == 200
    assert form.endpoint_path in content
    assert 'name="token"' not in content


def test_adding_a_form_in_the_admin_warns_when_no_default_owner_is_set(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:leads_webtoleadform_add"),
        {"name": "Site", "is_active": "on", "lead_source": "web", "thank_you_url": ""},
        follow=True,
    )

    form = WebToLeadForm.objects.get()
    assert len(form.token) >= 32
    assert "No default lead owner is set" in response.content.decode()


# --- Every refusal answers JSON -------------------------------------------------------------


def assert_json_refusal(response, status: int, text: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert text in response.json()["error"]
    assert not Lead.objects.exists()


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_an_oversized_post_is_refused_with_json_before_it_is_read(
    csrf_client, form, default_owner, accept
):
    body = {**POST, "description": "x" * 70_000}
    response = csrf_client.post(url(form), body, headers={"Accept": accept})
    assert_json_refusal(response, 413, "larger than 65,536 bytes")


def test_a_post_over_djangos_body_limit_is_413_json(csrf_client, form, default_owner, settings):
    settings.WEB_TO_LEAD_MAX_BYTES = 10_000_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = csrf_client.post(
        url(form), {**POST, "description": "x" * 5_000}, headers={"Accept": "application/json"}
    )
    assert_json_refusal(response, 413, "larger than")


def test_a_post_with_too_many_fields_is_400_json(csrf_client, form, default_owner):
    body = "&".join(f"f{i}=1" for i in range(1_500))  # Django's limit is 1,000 fields
    response = csrf_client.post(
        url(form),
        body,
        content_type="application/x-www-form-urlencoded",
        headers={"Accept": "application/json"},
    )
    assert_json_refusal(response, 400, "too many fields")


def test_a_broken_multipart_body_is_400_json(csrf_client, form, default_owner):
    response = csrf_client.post(
        url(form),
        b"--x\r\nContent-Disposition: form-data\r\n\r\nno name\r\n",
        content_type="multipart/form-data",  # no boundary: the parser cannot start
        headers={"Accept": "application/json"},
    )
    assert_json_refusal(response, 400, "could not be read")


def test_get_is_405_json_with_allow(csrf_client, form):
    response = csrf_client.get(url(form), headers={"Accept": "application/json"})
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "Post the form's fields" in response.json()["error"]


def test_a_json_object_body_creates_the_lead(csrf_client, form, default_owner):
    response = csrf_client.post(url(form), {**POST, "topic": None}, content_type="application/json")
    assert response.status_code == 201
    lead = Lead.objects.get()
    assert (lead.last_name, lead.topic) == ("Lee", web_to_lead.WEB_LEAD_DEFAULT_TOPIC)


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"'])
def test_a_json_body_that_is_not_an_object_is_400_json(csrf_client, form, default_owner, body):
    response = csrf_client.post(url(form), body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]
    assert not Lead.objects.exists()


def test_a_json_body_with_bad_fields_is_400_with_field_errors(csrf_client, form, default_owner):
    response = csrf_client.post(
        url(form), {**POST, "email": "not an email"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "email" in response.json()["errors"]


# --- The client address behind proxies ------------------------------------------------------


def test_without_trusted_proxies_a_forwarded_header_is_ignored(
    csrf_client, form, default_owner, settings
):
    settings.WEB_TO_LEAD_RATE_LIMIT = 1
    csrf_client.post(url(form), POST, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="1.1.1.1")
    response = csrf_client.post(
        url(form), POST, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="2.2.2.2"
    )
    assert response.status_code == 429  # same REMOTE_ADDR: the header changes nothing
    assert set(WebToLeadPost.objects.values_list("ip", flat=True)) == {"198.51.100.7"}


def test_behind_a_trusted_proxy_each_visitor_has_their_own_bucket(
    csrf_client, form, default_owner, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.WEB_TO_LEAD_RATE_LIMIT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    assert (
        csrf_client.post(url(form), POST, HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy).status_code
        == 201
    )
    assert (
        csrf_client.post(url(form), POST, HTTP_X_FORWARDED_FOR="203.0.113.6", **proxy).status_code
        == 201
    )
    # A visitor who writes their own header first is still seen as who the proxy saw.
    spoofed = csrf_client.post(
        url(form), POST, HTTP_X_FORWARDED_FOR="8.8.8.8, 203.0.113.5", **proxy
    )
    assert spoofed.status_code == 429
    assert set(WebToLeadPost.objects.values_list("ip", flat=True)) == {
        "203.0.113.5",
        "203.0.113.6",
    }
