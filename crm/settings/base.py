"""Settings shared by every environment. Environment files override what differs."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    # Django's admin with list pages that refuse a malformed query string instead
    # of answering 500 (crm.admin_site).
    "crm.admin_site.LeadlineAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "simple_history",
    "csp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "crm",
    "accounts",
    "leads",
    "opportunities",
    "activities",
    "imports",
    "reports",
    "demo",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]

MIDDLEWARE = [
    # First: a busy or unreachable database answers 503 "try again" from any layer.
    "crm.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Records request.user as the author of each history row the request writes.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "crm.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
# How long a request waits for a lock that another one holds (seconds). Past it
# the request answers 503 "the database is busy, try again" and changes nothing
# (crm.middleware), instead of waiting without end or failing at once.
DATABASE_LOCK_TIMEOUT = float(os.environ.get("DATABASE_LOCK_TIMEOUT", "20"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run while a writer commits; the busy timeout makes a
    # second writer wait instead of failing at once with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": DATABASE_LOCK_TIMEOUT,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # The lead_report index INCLUDEs the id for PostgreSQL; SQLite keeps the rowid
    # in every index anyway, so the warning that it ignores INCLUDE is noise.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's twin of the busy timeout: a row or table lock not granted in
    # time raises "lock timeout" (LockNotAvailable), answered as 503.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c lock_timeout={int(DATABASE_LOCK_TIMEOUT * 1000)}"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Third-party front-end assets come from pinned npm packages (package-lock.json)
# and are served from node_modules under /static/vendor/; nothing from a CDN.
_NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS += [
    ("vendor/bootstrap", _NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", _NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", _NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/chartjs", _NODE_MODULES / "chart.js" / "dist"),
]

MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "/media/"  # never served publicly: attachments go through a view
STORAGES = {
    # The file system under MEDIA_ROOT; a write that fails part way (a full disk)
    # leaves no partial file (crm.storage.MediaStorage).
    "default": {"BACKEND": "crm.storage.MediaStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Several machines (web processes and workers) need one store for uploads and
# exports: a shared folder as MEDIA_ROOT (NFS), or an S3-compatible bucket through
# django-storages (`pip install -e '.[s3]'` adds boto3). Files stay private: every
# download goes through the app's permission checks.
MEDIA_S3_BUCKET = os.environ.get("MEDIA_S3_BUCKET", "")
if MEDIA_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": os.environ.get("MEDIA_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("MEDIA_S3_REGION") or None,
            "access_key": os.environ.get("MEDIA_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("MEDIA_S3_SECRET_ACCESS_KEY") or None,
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }

# Sign-in throttling (django-axes): five failed passwords for one user name from one
# address lock that pair out for 15 minutes; other users and addresses are unaffected.
# `manage.py axes_reset_username NAME` (or the admin's access attempts) unlocks early.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# The client address comes from crm.http.client_ip (django-ipware), as for web-to-lead.
AXES_CLIENT_IP_CALLABLE = "crm.http.client_ip"

# How many reverse proxies stand in front of the app, each appending the address it
# was reached from to X-Forwarded-For (nginx with proxy_add_x_forwarded_for: 1; a
# load balancer in front of nginx: 2). 0, the default, trusts no header: the client
# is REMOTE_ADDR. Set it to exactly the number of proxies, and let no request reach
# the app around them, or visitors could choose their own address.
try:
    TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
except ValueError:
    TRUSTED_PROXY_COUNT = -1
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be a whole number, 0 or more.")

# Content-Security-Policy (django-csp) in every environment, tests included, so the
# browser tests prove each page works under it: scripts, styles, fonts and images come
# from our own origin only. Templates carry no inline script, event handler, style
# attribute or <style> block; behaviour lives in static/js, looks in static/css.
# data: images are Bootstrap's inline SVG icons (select arrows, check marks).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "leads:list"
LOGOUT_REDIRECT_URL = "login"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

MESSAGE_TAGS = {40: "danger"}

# Largest attachment a note may carry, in bytes.
NOTE_ATTACHMENT_MAX_BYTES = int(os.environ.get("NOTE_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))
# The file types a note may not carry are an organisation setting (Admin >
# Organisation settings), defaulting to crm.filetypes.DEFAULT_BLOCKED_EXTENSIONS.

LEADS_PER_PAGE = 50

# The admin shows each record's versions; reverting from there would bypass the services.
SIMPLE_HISTORY_REVERT_DISABLED = True

# Background jobs (crm.jobs) through Django's tasks API. The database backend by
# default: nothing to run but `manage.py worker`. With TASKS_REDIS_URL, Redis
# through RQ, for many workers on many machines (README, "Background jobs").
TASKS_REDIS_URL = os.environ.get("TASKS_REDIS_URL", "")
if TASKS_REDIS_URL:
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    # A job may run for hours (a million-row import); crm.jobs' heartbeat, not
    # RQ's timeout, tells a dead worker from a slow one.
    RQ_QUEUES = {"default": {"URL": TASKS_REDIS_URL, "DEFAULT_TIMEOUT": 24 * 3600}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# A running job whose worker has not said it is alive for this long is taken to
# be dead (killed, its machine gone) and sent again (crm.jobs.sweep).
JOBS_STALE_AFTER = timedelta(seconds=int(os.environ.get("JOBS_STALE_AFTER_SECONDS", "120")))
# A queued job the task backend does not hold (Redis was down or lost it) is
# sent again after this long; each worker checks every JOBS_TICK_SECONDS.
JOBS_RESEND_AFTER = timedelta(seconds=int(os.environ.get("JOBS_RESEND_AFTER_SECONDS", "30")))
JOBS_TICK_SECONDS = int(os.environ.get("JOBS_TICK_SECONDS", "60"))

# Notification emails (sent by jobs): SMTP from the environment in production.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Leadline <leadline@localhost>")

# The REST API (api/): personal tokens (Authorization: Bearer) or the browser's
# session (with CSRF); every refusal as application/problem+json.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "api.permissions.TokenScope",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.handler",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttles.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": os.environ.get("API_RATE", "600/min")},
}
# The cache the API's throttles count in: shared by every process through Redis
# when TASKS_REDIS_URL is set, else this process's memory.
if TASKS_REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("CACHE_REDIS_URL", TASKS_REDIS_URL),
        }
    }
SPECTACULAR_SETTINGS = {
    "TITLE": "Leadline API",
    "DESCRIPTION": "Leads and their lifecycle (QualifyLead, as Dynamics 365 names it).",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.problems_and_links",
    ],
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusReasonEnum": "leads.models.LeadStatusReason.choices",
        "OpportunityStatusReasonEnum": "opportunities.models.OpportunityStatusReason.choices",
        "DisqualifyReasonEnum": "api.serializers.DISQUALIFY_CHOICES",
    },
}
