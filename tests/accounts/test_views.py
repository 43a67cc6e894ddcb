"""Account and contact pages: the HTTP contract of every URL."""

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import Account, Contact
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    NoteFactory,
    OpportunityFactory,
)

pytestmark = pytest.mark.django_db


def _messages(response) -> list[tuple[int, str]]:
    return [(m.level, str(m)) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def account(rep):
    return AccountFactory(owner=rep, name="Contoso Pharmaceuticals", email="info@contoso.example")


@pytest.fixture
def contact(rep, account):
    return ContactFactory(
        owner=rep,
        account=account,
        first_name="Nancy",
        last_name="Davolio",
        email="nancy@contoso.example",
        job_title="Purchasing Manager",
        business_phone="555-0100",
        mobile_phone="555-0199",
    )


def _urls(account, contact) -> list[str]:
    return [
        reverse("accounts:list"),
        reverse("accounts:create"),
        reverse("accounts:detail", args=[account.pk]),
        reverse("accounts:edit", args=[account.pk]),
        reverse("accounts:lookup") + f"?id={account.pk}",
        reverse("accounts:contact_list"),
        reverse("accounts:contact_create"),
        reverse("accounts:contact_detail", args=[contact.pk]),
        reverse("accounts:contact_edit", args=[contact.pk]),
        reverse("accounts:contact_lookup") + f"?id={contact.pk}",
    ]


# --- URLs and access ----------------------------------------------------------------------


def test_url_paths_match_the_interface_contract(account, contact):
    assert reverse("accounts:list") == "/accounts/"
    assert reverse("accounts:create") == "/accounts/new/"
    assert reverse("accounts:detail", args=[7]) == "/accounts/7/"
    assert reverse("accounts:edit", args=[7]) == "/accounts/7/edit/"
    assert reverse("accounts:lookup") == "/accounts/lookup/"
    assert reverse("accounts:contact_list") == "/contacts/"
    assert reverse("accounts:contact_create") == "/contacts/new/"
    assert reverse("accounts:contact_detail", args=[7]) == "/contacts/7/"
    assert reverse("accounts:contact_edit", args=[7]) == "/contacts/7/edit/"
    assert reverse("accounts:contact_lookup") == "/contacts/lookup/"


def test_every_page_requires_login(client, account, contact):
    for url in _urls(account, contact):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next=/"), url


def test_every_page_opens_for_the_owner(client, rep, account, contact):
    client.force_login(rep)
    for url in _urls(account, contact):
        assert client.get(url).status_code == 200, url


def test_missing_records_are_404(client, rep):
    client.force_login(rep)
    for name in ("detail", "edit", "contact_detail", "contact_edit"):
        assert client.get(reverse(f"accounts:{name}", args=[999999])).status_code == 404


def test_another_rep_reads_but_cannot_edit(client, rep2, account, contact):
    client.force_login(rep2)

    page = client.get(account.get_absolute_url())
    assert page.status_code == 200
    assert reverse("accounts:edit", args=[account.pk]) not in page.content.decode()
    assert client.get(reverse("accounts:edit", args=[account.pk])).status_code == 403
    response = client.post(reverse("accounts:edit", args=[account.pk]), {"name": "Mine"})
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.name == "Contoso Pharmaceuticals"
    assert client.get(reverse("accounts:contact_edit", args=[contact.pk])).status_code == 403


def test_manager_edits_any_account(client, manager, account):
    client.force_login(manager)
    page = client.get(account.get_absolute_url())
    assert reverse("accounts:edit", args=[account.pk]) in page.content.decode()
    assert client.get(reverse("accounts:edit", args=[account.pk])).status_code == 200


# --- Account list -------------------------------------------------------------------------


def test_account_list_shows_rows_with_owner_and_created(client, rep, account):
    client.force_login(rep)
    response = client.get(reverse("accounts:list"))
    html = response.content.decode()
    assert "Contoso Pharmaceuticals" in html
    assert rep.get_full_name() in html
    assert account.created_at.strftime("%b") in html
    assert 'class="table table-hover table-ll' in html
    assert 'href="?sort=name"' in html


@pytest.mark.parametrize("q", ["contoso", "INFO@CONTOSO", "0113 496", "pharma contoso"], ids=str)
def test_account_search_covers_name_email_and_phone(client, rep, q):
    AccountFactory(
        owner=rep,
        name="Contoso Pharmaceuticals",
        email="info@contoso.example",
        phone="0113 496 0000",
    )
    AccountFactory(owner=rep, name="Fabrikam", email="hello@fabrikam.example", phone="020 7946")
    client.force_login(rep)

    names = [a.name for a in client.get(reverse("accounts:list"), {"q": q}).context["page"]]

    assert names == ["Contoso Pharmaceuticals"]


def test_account_list_filters_by_owner(client, rep, rep2):
    AccountFactory(owner=rep, name="Mine")
    AccountFactory(owner=rep2, name="Theirs")
    client.force_login(rep)

    page = client.get(reverse("accounts:list"), {"owner": rep2.pk}).context["page"]

    assert [a.name for a in page] == ["Theirs"]


def test_account_list_sorts_by_allowed_keys_and_ignores_others(client, rep, rep2):
    AccountFactory(owner=rep, name="Beta")
    AccountFactory(owner=rep2, name="Alpha")
    AccountFactory(owner=rep, name="Gamma")
    client.force_login(rep)
    url = reverse("accounts:list")

    def names(sort):
        return [a.name for a in client.get(url, {"sort": sort}).context["page"]]

    assert names("name") == ["Alpha", "Beta", "Gamma"]
    assert names("-name") == ["Gamma", "Beta", "Alpha"]
    assert names("-created") == ["Gamma", "Alpha", "Beta"]
    # Not on the allow-list: the default order, never an error.
    assert names("owner__password") == ["Alpha", "Beta", "Gamma"]
    assert client.get(url, {"sort": "-; drop table"}).status_code == 200


def test_account_list_paginates_50_per_page_keeping_filters(client, rep):
    for n in range(60):
        AccountFactory(owner=rep, name=f"Acme {n:02d}")
    AccountFactory(owner=rep, name="Other")
    client.force_login(rep)
    url = reverse("accounts:list")

    first = client.get(url, {"q": "acme", "sort": "name"})
    second = client.get(url, {"q": "acme", "sort": "name", "page": 2})

    assert len(first.context["page"]) == 50
    assert [a.name for a in second.context["page"]] == [f"Acme {n:02d}" for n in range(50, 60)]
    assert 'href="?q=acme&amp;sort=name&amp;page=2"' in first.content.decode()
    assert "51–60 of 60" in second.content.decode()
    # Out-of-range pages fall back to the last page rather than erroring.
    assert client.get(url, {"q": "acme", "page": 99}).status_code == 200


def test_account_list_empty_states(client, rep):
    client.force_login(rep)
    url = reverse("accounts:list")

    empty = client.get(url).content.decode()
    assert "No accounts yet" in empty
    assert reverse("accounts:create") in empty

    AccountFactory(owner=rep, name="Contoso")
    filtered = client.get(url, {"q": "nothing-like-this"}).content.decode()
    assert "No accounts match these filters" in filtered
    assert 'href="/accounts/">Clear the filters' in filtered


@pytest.mark.parametrize("model", ["accounts", "contacts"])
def test_list_query_count_does_not_grow_with_rows(
    client, rep, rep2, django_assert_max_num_queries, model
):
    client.force_login(rep)
    url = reverse("accounts:list" if model == "accounts" else "accounts:contact_list")

    def make(count):
        for n in range(count):
            owner = rep if n % 2 else rep2
            if model == "accounts":
                AccountFactory(owner=owner)
            else:
                ContactFactory(owner=owner, account=AccountFactory(owner=owner))

    make(5)
    with django_assert_max_num_queries(8):
        assert client.get(url).status_code == 200
    make(55)
    with django_assert_max_num_queries(8):
        assert len(client.get(url).context["page"]) == 50


# --- Account detail -----------------------------------------------------------------------


def test_account_detail_shows_fields_contacts_and_opportunities(client, rep, account, contact):
    opportunity = OpportunityFactory(owner=rep, account=account, name="50 pallets")
    client.force_login(rep)

    html = client.get(account.get_absolute_url()).content.decode()

    assert 'class="ll-record-header' in html
    assert 'class="ll-title"' in html
    assert 'class="ll-commandbar' in html
    assert 'class="row ll-fields' in html
    assert "<dt>Email</dt>" in html
    assert 'href="mailto:info@contoso.example"' in html
    assert contact.get_absolute_url() in html
    assert "Nancy Davolio" in html
    assert opportunity.get_absolute_url() in html
    assert reverse("accounts:edit", args=[account.pk]) in html


def test_account_detail_query_count_is_flat(client, rep, account, django_assert_max_num_queries):
    client.force_login(rep)
    for _ in range(3):
        ContactFactory(owner=rep, account=account)
        OpportunityFactory(owner=rep, account=account)
    # Session, user, the account, contacts, opportunities, role, timeline (notes,
    # activities), history.
    with django_assert_max_num_queries(10):
        client.get(account.get_absolute_url())
    for _ in range(20):
        ContactFactory(owner=rep, account=account)
        OpportunityFactory(owner=rep, account=account)
        NoteFactory(account=account)
        ActivityFactory(account=account)
    with django_assert_max_num_queries(10):
        client.get(account.get_absolute_url())


# --- Account create / edit ----------------------------------------------------------------


def test_account_create_form_defaults_owner_to_the_user(client, rep):
    client.force_login(rep)
    form = client.get(reverse("accounts:create")).context["form"]
    assert form["owner"].value() == rep.pk
    assert form.fields["owner"].disabled


def test_account_create_saves_and_redirects_with_message(client, rep):
    client.force_login(rep)

    response = client.post(
        reverse("accounts:create"),
        {"name": "Northwind Traders", "email": "sales@northwind.example", "industry": "retail"},
    )

    account = Account.objects.get()
    assert response.status_code == 302
    assert response["Location"] == account.get_absolute_url()
    assert (account.name, account.owner, account.industry) == ("Northwind Traders", rep, "retail")
    assert (messages.SUCCESS, "Account “Northwind Traders” created.") in _messages(response)


def test_account_create_ignores_owner_posted_by_a_rep(client, rep, rep2):
    client.force_login(rep)
    client.post(reverse("accounts:create"), {"name": "Northwind", "owner": rep2.pk})
    assert Account.objects.get().owner == rep


def test_manager_creates_an_account_for_a_rep(client, manager, rep):
    client.force_login(manager)
    client.post(reverse("accounts:create"), {"name": "Northwind", "owner": rep.pk})
    assert Account.objects.get().owner == rep


def test_account_create_rerenders_errors_and_saves_nothing(client, rep):
    client.force_login(rep)

    response = client.post(
        reverse("accounts:create"), {"name": "", "email": "nope", "website": "not a url"}
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert {"name", "email", "website"} <= set(form.errors)
    assert "is-invalid" in response.content.decode()
    assert "nothing was saved" in response.content.decode()
    assert not Account.objects.exists()


def test_account_edit_saves_and_redirects(client, rep, account):
    client.force_login(rep)
    url = reverse("accounts:edit", args=[account.pk])
    assert client.get(url).context["form"]["name"].value() == "Contoso Pharmaceuticals"

    response = client.post(url, {"name": "Contoso Ltd", "city": "Leeds"})

    assert response.status_code == 302
    assert response["Location"] == account.get_absolute_url()
    account.refresh_from_db()
    assert (account.name, account.city, account.owner) == ("Contoso Ltd", "Leeds", rep)
    assert (messages.SUCCESS, "Account “Contoso Ltd” saved.") in _messages(response)


def test_account_edit_with_errors_changes_nothing(client, rep, account):
    client.force_login(rep)

    response = client.post(reverse("accounts:edit", args=[account.pk]), {"name": ""})

    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    # The page still shows the saved name, not the rejected input.
    assert "<title>Edit Contoso Pharmaceuticals" in response.content.decode()
    account.refresh_from_db()
    assert account.name == "Contoso Pharmaceuticals"


# --- Lookups ------------------------------------------------------------------------------


def test_account_lookup_returns_the_name(client, rep, account):
    client.force_login(rep)
    response = client.get(reverse("accounts:lookup"), {"id": account.pk})
    assert response.status_code == 200
    assert response.json()["name"] == "Contoso Pharmaceuticals"


def test_contact_lookup_returns_the_fields_a_lead_copies(client, rep, contact):
    client.force_login(rep)
    data = client.get(reverse("accounts:contact_lookup"), {"id": contact.pk}).json()
    assert {k: data[k] for k in data if k != "id"} == {
        "first_name": "Nancy",
        "last_name": "Davolio",
        "job_title": "Purchasing Manager",
        "business_phone": "555-0100",
        "mobile_phone": "555-0199",
        "email": "nancy@contoso.example",
    }


@pytest.mark.parametrize("name", ["accounts:lookup", "accounts:contact_lookup"])
@pytest.mark.parametrize("query", [{}, {"id": ""}, {"id": "abc"}, {"id": "999999"}, {"id": "-1"}])
def test_lookup_of_missing_or_invalid_id_is_json_404(client, rep, name, query):
    client.force_login(rep)
    response = client.get(reverse(name), query)
    assert response.status_code == 404
    assert "error" in response.json()


def test_lookup_refuses_post(client, rep, account):
    client.force_login(rep)
    assert client.post(reverse("accounts:lookup"), {"id": account.pk}).status_code == 405


# --- Contacts -----------------------------------------------------------------------------


def test_contact_list_searches_name_email_and_account(client, rep, contact):
    ContactFactory(owner=rep, first_name="Andrew", last_name="Fuller", email="af@example.com")
    client.force_login(rep)
    url = reverse("accounts:contact_list")

    for q in ("nancy", "davolio", "nancy@contoso", "contoso pharma", "Nancy Davolio"):
        names = [c.full_name for c in client.get(url, {"q": q}).context["page"]]
        assert names == ["Nancy Davolio"], q


def test_contact_list_shows_account_owner_and_sorts(client, rep, contact):
    ContactFactory(owner=rep, first_name="Andrew", last_name="Fuller")
    client.force_login(rep)
    url = reverse("accounts:contact_list")

    html = client.get(url).content.decode()
    assert "Contoso Pharmaceuticals" in html
    assert rep.get_full_name() in html
    assert [c.last_name for c in client.get(url, {"sort": "-name"}).context["page"]] == [
        "Fuller",
        "Davolio",
    ]
    assert "No contacts match these filters" in client.get(url, {"q": "zzz"}).content.decode()


def test_contact_detail_shows_account_and_opportunities(client, rep, contact, account):
    opportunity = OpportunityFactory(owner=rep, account=None, contact=contact, name="Trial kit")
    client.force_login(rep)

    html = client.get(contact.get_absolute_url()).content.decode()

    assert "Nancy Davolio" in html
    assert account.get_absolute_url() in html
    assert opportunity.get_absolute_url() in html
    assert "<dt>Mobile phone</dt>" in html


def test_contact_create_with_account_preselected(client, rep, account):
    client.force_login(rep)
    url = reverse("accounts:contact_create")
    assert client.get(url, {"account": account.pk}).context["form"]["account"].value() == str(
        account.pk
    )

    response = client.post(
        url, {"first_name": "Janet", "last_name": "Leverling", "account": account.pk}
    )

    contact = Contact.objects.get()
    assert response["Location"] == contact.get_absolute_url()
    assert (contact.account, contact.owner) == (account, rep)
    assert (messages.SUCCESS, "Contact “Janet Leverling” created.") in _messages(response)


def test_contact_create_rerenders_errors_and_saves_nothing(client, rep):
    client.force_login(rep)
    response = client.post(
        reverse("accounts:contact_create"), {"first_name": "Janet", "email": "x@"}
    )
    assert response.status_code == 200
    assert {"last_name", "email"} <= set(response.context["form"].errors)
    assert not Contact.objects.exists()


def test_contact_edit_saves_and_redirects(client, rep, contact):
    client.force_login(rep)

    response = client.post(
        reverse("accounts:contact_edit", args=[contact.pk]),
        {"first_name": "Nancy", "last_name": "Davolio", "job_title": "Head of Purchasing"},
    )

    assert response["Location"] == contact.get_absolute_url()
    contact.refresh_from_db()
    assert contact.job_title == "Head of Purchasing"
    assert contact.account is None  # the form posted no account: now standalone
    assert (messages.SUCCESS, "Contact “Nancy Davolio” saved.") in _messages(response)


def test_contact_edit_with_errors_changes_nothing(client, rep, contact):
    client.force_login(rep)
    response = client.post(
        reverse("accounts:contact_edit", args=[contact.pk]), {"last_name": "", "email": "bad"}
    )
    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.last_name, contact.email) == ("Davolio", "nancy@contoso.example")
