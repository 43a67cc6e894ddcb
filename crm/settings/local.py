"""Developer machine: DEBUG on, SQLite unless DATABASE_URL says otherwise."""

from .base import *  # noqa: F403

DEBUG = True
SECRET_KEY = SECRET_KEY or "django-insecure-local-development-only"  # noqa: F405
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
# Notification emails are printed by the worker (`make run` shows them).
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
