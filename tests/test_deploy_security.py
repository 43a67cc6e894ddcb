"""Deployment security: production settings pass Django's deployment checklist,
every response carries the Content-Security-Policy and hardening headers, sign-in is
throttled (django-axes), and state changes need a CSRF token."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse

from leads.models import Lead
from tests.factories import LeadFactory, RepFactory

pytestmark = pytest.mark.django_db

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "crm.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "crm.example.com",
}
SETTINGS_ENV = {
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "LEADLINE_INSECURE_HTTP",
    "TRUSTED_PROXY_COUNT",
    # The browser tests set it for Playwright; deployment checks refuse it (async.E001).
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}
HTTPS_ONLY_WARNINGS = ("security.W004", "security.W008", "security.W012", "security.W016")


def run_python(*args: str, **env: str) -> subprocess.CompletedProcess:
    """The venv's Python in the project folder, with only the given settings variables."""
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env={**clean, **PRODUCTION_ENV, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_settings(**env: str) -> dict:
    names = [
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_CONTENT_TYPE_NOSNIFF",
        "SECURE_REFERRER_POLICY",
        "X_FRAME_OPTIONS",
        "CSRF_TRUSTED_ORIGINS",
        "DEBUG",
    ]
    script = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}))"
    )
    result = run_python("-c", script, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# Production settings ---------------------------------------------------------------


def test_production_settings_pass_every_deployment_check_without_a_warning():
    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


def test_production_settings_are_https_only_with_a_year_of_hsts():
    values = production_settings()

    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert values["X_FRAME_OPTIONS"] == "DENY"
    # No proxy is trusted unless one is named: a client could otherwise claim HTTPS.
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["CSRF_TRUSTED_ORIGINS"] == []


def test_production_proxy_header_and_trusted_origins_come_from_the_environment():
    values = production_settings(
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
        CSRF_TRUSTED_ORIGINS="https://crm.example.com, https://sales.example.com",
    )

    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["CSRF_TRUSTED_ORIGINS"] == [
        "https://crm.example.com",
        "https://sales.example.com",
    ]


LOOPBACK = "127.0.0.1,localhost,[::1],::1,127.0.0.2,app.localhost"


def test_production_insecure_http_switch_serves_plain_http_and_deploy_check_says_so():
    values = production_settings(LEADLINE_INSECURE_HTTP="1", ALLOWED_HOSTS=LOOPBACK)

    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["DEBUG"] is False
    result = run_python(
        "manage.py", "check", "--deploy", LEADLINE_INSECURE_HTTP="1", ALLOWED_HOSTS=LOOPBACK
    )
    for warning in HTTPS_ONLY_WARNINGS:
        assert warning in result.stderr


@pytest.mark.parametrize(
    "hosts", ["crm.example.com", "127.0.0.1,crm.example.com", "*", "10.0.0.5", "0.0.0.0"]
)
def test_production_insecure_http_refuses_to_start_unless_every_host_is_loopback(hosts):
    result = run_python("manage.py", "check", LEADLINE_INSECURE_HTTP="1", ALLOWED_HOSTS=hosts)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "loopback addresses only" in result.stderr


def test_a_negative_or_garbled_trusted_proxy_count_refuses_to_start():
    for value in ("-1", "two"):
        result = run_python("manage.py", "check", TRUSTED_PROXY_COUNT=value)
        assert result.returncode != 0
        assert "TRUSTED_PROXY_COUNT" in result.stderr


# Content-Security-Policy and headers -------------------------------------------------

EXPECTED_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}


def parse_policy(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


@pytest.mark.parametrize("path", ["/login/", "/leads/", "/leads/new/", "/admin/"])
def test_every_page_sends_the_content_security_policy_and_hardening_headers(
    client, admin_user, path
):
    client.force_login(admin_user)

    response = client.get(path)

    assert response.status_code in (200, 302)
    assert parse_policy(response["Content-Security-Policy"]) == EXPECTED_POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


# The Django template language's own tags ({% include ... style="danger" %}) are not HTML.
TEMPLATE_TAG = re.compile(r"{%.*?%}", re.DOTALL)
INLINE_CODE = re.compile(
    r"""\sstyle\s*=          # a style attribute
      | <style\b             # a <style> block
      | <script\b(?![^>]*\ssrc=)  # a script without src
      | \son[a-z]+\s*=       # an event handler attribute
      | javascript:          # a javascript: URL
      | \shx-on              # htmx inline handlers (eval)
    """,
    re.VERBOSE | re.IGNORECASE,
)


def test_templates_have_no_inline_script_style_or_event_handler():
    offenders = []
    for template in sorted(Path(settings.BASE_DIR, "templates").rglob("*.html")):
        html = TEMPLATE_TAG.sub("", template.read_text())
        offenders += [f"{template.name}: {m.group().strip()}" for m in INLINE_CODE.finditer(html)]

    assert offenders == []


# Sign-in throttling (django-axes) -------------------------------------------------


def sign_in(client: Client, username: str, password: str, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def signed_in_as(client: Client):
    return client.get(reverse("leads:list")).wsgi_request.user


def lock_out(client: Client, username: str, **extra) -> list[int]:
    return [sign_in(client, username, "wrong", **extra).status_code for _ in range(5)]


def test_throttling_settings_lock_a_user_and_address_pair_for_15_minutes():
    assert settings.AXES_ENABLED
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_fifth_wrong_password_locks_out_and_the_right_one_is_then_refused(client, rep):
    statuses = lock_out(client, "rep")

    response = sign_in(client, "rep", "password")

    assert statuses == [200, 200, 200, 200, 429]
    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert "Try again in 15 minutes" in response.content.decode()
    assert response.has_header("Content-Security-Policy")
    assert not signed_in_as(client).is_authenticated


def test_lockout_leaves_other_users_and_other_addresses_alone(client, rep, rep2):
    lock_out(client, "rep")

    other_user = sign_in(Client(), "rep2", "password")
    other_address = sign_in(Client(), "rep", "password", REMOTE_ADDR="192.0.2.10")

    assert other_user.status_code == 302
    assert other_address.status_code == 302
    assert sign_in(client, "rep", "password").status_code == 429


def test_behind_a_trusted_proxy_the_lockout_is_per_visitor(client, rep, settings):
    """Behind the proxy every request comes from its address: with the proxy
    counted, the throttle keys on the visitor the proxy saw, not on the proxy."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    lock_out(client, "rep", HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)

    other_visitor = sign_in(
        Client(), "rep", "password", HTTP_X_FORWARDED_FOR="203.0.113.6", **proxy
    )
    spoofing = sign_in(
        Client(), "rep", "password", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.5", **proxy
    )

    assert other_visitor.status_code == 302
    assert spoofing.status_code == 429
    assert AccessAttempt.objects.get().ip_address == "203.0.113.5"


def test_without_a_trusted_proxy_a_forwarded_header_does_not_escape_the_lockout(client, rep):
    lock_out(client, "rep", HTTP_X_FORWARDED_FOR="203.0.113.5")

    response = sign_in(Client(), "rep", "password", HTTP_X_FORWARDED_FOR="203.0.113.99")

    assert response.status_code == 429


def test_sign_in_works_again_after_the_cool_off(client, rep):
    lock_out(client, "rep")

    # Age the failures past the cool-off instead of waiting 15 minutes.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    response = sign_in(client, "rep", "password")

    assert response.status_code == 302
    assert response.url == reverse("leads:list")
    assert signed_in_as(client) == rep


def test_successful_sign_in_clears_earlier_failures(client, rep):
    for _ in range(4):
        sign_in(client, "rep", "wrong")
    assert sign_in(client, "rep", "password").status_code == 302
    client.logout()

    statuses = [sign_in(client, "rep", "wrong").status_code for _ in range(4)]

    assert statuses == [200] * 4
    assert sign_in(client, "rep", "password").status_code == 302


def test_admin_sign_in_is_throttled_too(client, admin_user):
    url = reverse("admin:login")
    for _ in range(5):
        client.post(url, {"username": "admin", "password": "wrong"})

    response = client.post(url, {"username": "admin", "password": "password"})

    assert response.status_code == 429
    assert not signed_in_as(client).is_authenticated


# CSRF ------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(rep):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    return client


def csrf_token(client: Client, url: str) -> str:
    """The token the page's form carries, as a browser would post it."""
    html = client.get(url).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


NEW_LEAD = {
    "topic": "New CRM",
    "last_name": "Smith",
    "rating": "hot",
    "status_reason": "new",
    "preferred_contact_method": "any",
}


def test_create_lead_without_a_csrf_token_is_refused_and_saves_nothing(csrf_client):
    csrf_client.get(reverse("leads:create"))  # sets the CSRF cookie, as a browser would have

    response = csrf_client.post(reverse("leads:create"), NEW_LEAD)

    assert response.status_code == 403
    assert not Lead.objects.exists()


def test_create_lead_with_the_csrf_token_works(csrf_client):
    token = csrf_token(csrf_client, reverse("leads:create"))

    response = csrf_client.post(reverse("leads:create"), {**NEW_LEAD, "csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert Lead.objects.get().topic == "New CRM"


def test_disqualify_without_a_csrf_token_is_refused_and_changes_nothing(csrf_client, rep):
    lead = LeadFactory(owner=rep)
    csrf_client.get(lead.get_absolute_url())

    response = csrf_client.post(
        reverse("leads:disqualify", args=[lead.pk]), {"reason": "no_longer_interested"}
    )

    assert response.status_code == 403
    lead.refresh_from_db()
    assert (lead.state, lead.status_reason) == ("open", "new")


def test_disqualify_with_the_csrf_token_works(csrf_client, rep):
    lead = LeadFactory(owner=rep)
    token = csrf_token(csrf_client, lead.get_absolute_url())

    response = csrf_client.post(
        reverse("leads:disqualify", args=[lead.pk]),
        {"reason": "no_longer_interested", "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.state, lead.status_reason) == ("disqualified", "no_longer_interested")


def test_a_token_from_another_session_is_refused(csrf_client, rep):
    lead = LeadFactory(owner=rep)
    other = Client(enforce_csrf_checks=True)
    other.force_login(RepFactory())
    stolen = csrf_token(other, reverse("leads:create"))
    csrf_client.get(lead.get_absolute_url())

    response = csrf_client.post(
        reverse("leads:disqualify", args=[lead.pk]),
        {"reason": "no_longer_interested", "csrfmiddlewaretoken": stolen},
    )

    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.state == "open"
