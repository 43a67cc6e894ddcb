"""Test run: fast hashing, throwaway media folder."""

import os
import tempfile

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-secret-key"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A folder of its own per run, unless the test gives one (several processes of
# one system test: tests/jobs/test_workers.py).
MEDIA_ROOT = os.environ.get("MEDIA_ROOT") or tempfile.mkdtemp(prefix="leadline-test-media-")
# axe-core, the accessibility engine the browser tests run in each page
# (tests/browser/test_accessibility.py): served from node_modules like the
# other assets, in tests only.
STATICFILES_DIRS = [*STATICFILES_DIRS, ("vendor/axe-core", BASE_DIR / "node_modules" / "axe-core")]  # noqa: F405
