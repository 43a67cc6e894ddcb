import pytest

from crm.models import OrganizationSettings
from tests.factories import ManagerFactory, RepFactory, UserFactory


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
