"""Settings for the benchmark: production-like (DEBUG off, so no query log
grows in memory), on the bench database that benchmarks/run.py puts in
DATABASE_URL, never the development db.sqlite3."""

from crm.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "benchmark-only-secret-key"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
