"""update_account and update_contact: what they change and what they refuse."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts import services
from accounts.models import Account, Contact
from crm.permissions import can_change
from crm.text import name_key
from tests.factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_update_account_changes_fields(rep):
    account = AccountFactory(owner=rep, name="Contoso")

    updated = services.update_account(
        account=account, user=rep, name="Contoso Ltd", city="Leeds", phone="0113 496 0000"
    )

    account.refresh_from_db()
    assert updated == account
    assert (account.name, account.city, account.phone) == ("Contoso Ltd", "Leeds", "0113 496 0000")
    assert account.name_key == name_key("Contoso Ltd")


def test_update_account_refuses_invalid_data_and_saves_nothing(rep):
    account = AccountFactory(owner=rep, name="Contoso", email="sales@contoso.example")

    with pytest.raises(ValidationError) as err:
        services.update_account(account=account, user=rep, name="", email="not-an-email")

    assert {"name", "email"} <= set(err.value.message_dict)
    account.refresh_from_db()
    assert (account.name, account.email) == ("Contoso", "sales@contoso.example")


def test_update_account_refuses_a_rep_who_does_not_own_it(rep, rep2):
    account = AccountFactory(owner=rep, name="Contoso")

    with pytest.raises(PermissionDenied):
        services.update_account(account=account, user=rep2, name="Taken over")

    account.refresh_from_db()
    assert account.name == "Contoso"


def test_manager_updates_any_account_and_reassigns_owner(rep, rep2, manager):
    account = AccountFactory(owner=rep)

    services.update_account(account=account, user=manager, owner=rep2, city="York")

    account.refresh_from_db()
    assert (account.owner, account.city) == (rep2, "York")


def test_rep_cannot_reassign_owner(rep, rep2):
    account = AccountFactory(owner=rep)

    with pytest.raises(PermissionDenied):
        services.update_account(account=account, user=rep, owner=rep2)

    account.refresh_from_db()
    assert account.owner == rep


def test_rep_may_pass_their_own_owner_unchanged(rep):
    account = AccountFactory(owner=rep)

    services.update_account(account=account, user=rep, owner=rep, city="Bath")

    account.refresh_from_db()
    assert account.city == "Bath"


def test_update_account_refuses_fields_that_cannot_be_edited(rep):
    account = AccountFactory(owner=rep)

    with pytest.raises(TypeError):
        services.update_account(account=account, user=rep, name_key="x", created_at=None)


def test_update_contact_changes_fields_and_account(rep):
    contact = ContactFactory(owner=rep, first_name="Ann", last_name="Lee")
    account = AccountFactory(owner=rep)

    services.update_contact(
        contact=contact, user=rep, last_name="Lee-Smith", account=account, mobile_phone="07700"
    )

    contact.refresh_from_db()
    assert (contact.last_name, contact.account, contact.mobile_phone) == (
        "Lee-Smith",
        account,
        "07700",
    )
    assert contact.name_key == Contact.person_key("Ann", "Lee-Smith")


def test_update_contact_refuses_invalid_data_and_saves_nothing(rep):
    contact = ContactFactory(owner=rep, last_name="Lee", email="ann@example.com")

    with pytest.raises(ValidationError) as err:
        services.update_contact(contact=contact, user=rep, last_name="", email="nope")

    assert {"last_name", "email"} <= set(err.value.message_dict)
    contact.refresh_from_db()
    assert (contact.last_name, contact.email) == ("Lee", "ann@example.com")


def test_update_contact_refuses_a_rep_who_does_not_own_it(rep, rep2):
    contact = ContactFactory(owner=rep, last_name="Lee")

    with pytest.raises(PermissionDenied):
        services.update_contact(contact=contact, user=rep2, last_name="Other")

    contact.refresh_from_db()
    assert contact.last_name == "Lee"


def test_manager_updates_any_contact(rep, manager):
    contact = ContactFactory(owner=rep)

    services.update_contact(contact=contact, user=manager, job_title="CFO")

    contact.refresh_from_db()
    assert contact.job_title == "CFO"


def test_can_change_rules(rep, rep2, manager, admin_user):
    account = AccountFactory(owner=rep)

    assert can_change(rep, account)
    assert not can_change(rep2, account)
    assert can_change(manager, account)
    assert can_change(admin_user, account)
    assert Account.objects.count() == 1
