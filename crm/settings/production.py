"""Production: everything secret or host-specific comes from the environment.

`python manage.py check --deploy --settings=crm.settings.production` passes with no
warning when only the two required variables are set: HTTPS only, secure cookies,
one year of HSTS, and the headers and Content-Security-Policy of base.py.

Required (the process refuses to start without them):
    SECRET_KEY               a long random string, e.g. from
                             `python -c "import secrets; print(secrets.token_urlsafe(50))"`
    ALLOWED_HOSTS            comma-separated host names: "crm.example.com,www.crm.example.com"

Optional:
    CSRF_TRUSTED_ORIGINS     comma-separated origins with their scheme, allowed to post
                             forms from another origin: "https://crm.example.com"
    SECURE_PROXY_SSL_HEADER  the header that a TLS-terminating proxy in front of the app
                             sets to "https", e.g. "X-Forwarded-Proto". Set it only when
                             every request comes through that proxy and the proxy overwrites
                             the header, or a client could claim HTTPS by sending it.
    SECURE_HSTS_SECONDS      default 31536000 (one year); start lower while first moving a
                             host to HTTPS, since browsers remember it.
    LEADLINE_INSECURE_HTTP   "1" serves plain HTTP: no redirect to HTTPS, cookies without
                             the Secure flag, no HSTS. Only for running these settings
                             locally, e.g. a load test of gunicorn on http://127.0.0.1:
                             the process refuses to start with it unless every
                             ALLOWED_HOSTS entry is a loopback address (127.0.0.1, ::1,
                             localhost); `check --deploy` warns about it, as it should.
    TRUSTED_PROXY_COUNT      how many reverse proxies append to X-Forwarded-For in front
                             of the app (see base.py); default 0.
    EMAIL_HOST, EMAIL_PORT (587), EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS ("1")
                             the SMTP server notification emails go through; without
                             EMAIL_HOST, emails are written to the worker's log.
    DATABASE_URL, CONN_MAX_AGE, MEDIA_ROOT, NOTE_ATTACHMENT_MAX_BYTES, TASKS_REDIS_URL,
    DEFAULT_FROM_EMAIL: see base.py.
"""

import ipaddress
import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


DEBUG = False

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in the environment in production.")

ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in the environment in production.")

CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS")

_proxy_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip()
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")


def _is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 (bracketed or not), localhost and *.localhost (RFC 6761)."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_https = os.environ.get("LEADLINE_INSECURE_HTTP", "") != "1"
if not _https:
    exposed = [host for host in ALLOWED_HOSTS if not _is_loopback(host)]
    if exposed:
        raise ImproperlyConfigured(
            "LEADLINE_INSECURE_HTTP=1 serves plain HTTP and is for loopback addresses only; "
            f"ALLOWED_HOSTS also names {', '.join(exposed)}. Serve those over HTTPS."
        )
SECURE_SSL_REDIRECT = _https
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000")) if _https else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True

EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "1") == "1"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
