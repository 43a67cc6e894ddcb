import pytest

from crm.models import OrganizationSettings
from tests.factories import ManagerFactory, RepFactory, UserFactory


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    return bool(marker and marker.kwargs.get("transaction")) or "transactional_db" in fixtures


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    # Transactional tests (browser, concurrency) end by flushing every table,
    # data migrations' rows included; run them last so the others never see an
    # emptied database. pytest-django orders tests too, but its order puts the
    # Playwright tests before most database tests (the whole suite then fails):
    # this stable sort, after it, keeps every transactional test at the end.
    items.sort(key=_is_transactional)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: a rolled-back test's rows (a webhook
    endpoint) must not live on in it."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def rep(db):
    return RepFactory(username="rep")


@pytest.fixture
def rep2(db):
    return RepFactory(username="rep2")


@pytest.fixture
def manager(db):
    return ManagerFactory(username="manager")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def org_settings(db):
    return OrganizationSettings.load()


@pytest.fixture
def manual_qualify(org_settings):
    """The organisation setting 'create records by default upon qualifying' turned off."""
    org_settings.create_records_on_qualify = False
    org_settings.save()
    return org_settings
