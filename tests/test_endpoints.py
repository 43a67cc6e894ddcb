"""Every URL of the app, taken from the URL conf, against every role.

`ENDPOINTS` says what each named URL is: a page that only reads, a form page
(GET shows it, POST writes) or an action (POST only). A URL added to the app
without an entry here fails `test_every_url_is_listed`, so a new endpoint
cannot be forgotten. Then, for each: anonymous visitors are sent to the login
page; a rep acting on another rep's record gets 403 and nothing changes; a
GET on an action answers 405; a manager may act on everyone's records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.forms import AccountForm
from accounts.models import Account, Contact
from activities.models import Activity, Connection, Note
from api.models import ApiToken
from crm.models import Job, Notification
from imports.models import ImportJob
from leads.forms import LeadForm
from leads.models import BulkAction, Lead, LeadExport
from opportunities.models import Opportunity
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ConnectionFactory,
    ContactFactory,
    LeadFactory,
    NoteFactory,
    OpportunityFactory,
)

pytestmark = pytest.mark.django_db

# read: a page or lookup every role sees; form: GET shows a form, POST writes;
# action: POST only; fetch: GET only, the piece of a form a page loads on demand.
READ, FORM, ACTION, FETCH = "read", "form", "action", "fetch"
# managers: a page only sales managers (and superusers) read; a rep gets 403.
MANAGERS = "managers"
# owner: a page only its record's owner and managers read (another rep gets 403),
# because it shows data of theirs no other rep may see (an import's file rows).
OWNER = "owner"
# personal: its owner's alone; another rep and managers get 403 (an export holds
# the leads as its owner sees them).
PERSONAL = "personal"
# Outside the app's own rules: the login pages and Django's admin (its own permissions).
NOT_APP = {
    "login",
    "logout",
    # Public by design (a website's form posts leads to it): tests/leads/test_web_to_lead.py.
    "web_to_lead",
}
# The REST API answers 401 rather than sending to the sign-in page: tests/api/.
API = "api:"


@dataclass(frozen=True)
class Endpoint:
    kind: str
    # URL kwargs from the world of records rep "owner" owns; None: not about one record.
    kwargs: Callable[[dict], dict] | None = None
    # Query string a read needs, from the same world.
    query: Callable[[dict], dict] | None = None


def _pk(name: str) -> Callable[[dict], dict]:
    return lambda world: {"pk": world[name].pk}


def _regarding(**extra) -> Callable[[dict], dict]:
    return lambda world: {"kind": "lead", "pk": world["lead"].pk, **extra}


def _import_job(world: dict) -> ImportJob:
    """An import the owner uploaded, waiting for its columns (no file needed to refuse)."""
    return ImportJob.objects.create(
        created_by=world["owner"], file="imports/leads.csv", file_name="leads.csv", delimiter=","
    )


ENDPOINTS: dict[str, Endpoint] = {
    "home": Endpoint(READ),
    "reports:index": Endpoint(READ),
    "reports:lead_sources": Endpoint(MANAGERS),
    "leads:list": Endpoint(READ),
    "leads:create": Endpoint(FORM),
    "leads:export": Endpoint(READ),
    "leads:export_start": Endpoint(ACTION),
    "leads:bulk_status": Endpoint(PERSONAL, _pk("bulk")),
    "leads:export_status": Endpoint(PERSONAL, _pk("export")),
    "leads:export_download": Endpoint(PERSONAL, _pk("export")),
    "leads:bulk_qualify": Endpoint(ACTION),
    "leads:bulk_disqualify": Endpoint(ACTION),
    "leads:steps": Endpoint(FETCH, _pk("lead")),
    "leads:edit_steps": Endpoint(FORM, _pk("lead")),
    "leads:switch_process": Endpoint(FORM, _pk("lead")),
    "leads:detail": Endpoint(READ, _pk("lead")),
    "leads:score": Endpoint(READ, _pk("lead")),
    "leads:edit": Endpoint(FORM, _pk("lead")),
    "leads:qualify": Endpoint(ACTION, _pk("lead")),
    "leads:disqualify": Endpoint(ACTION, _pk("lead")),
    "leads:reactivate": Endpoint(ACTION, _pk("closed_lead")),
    "leads:delete": Endpoint(ACTION, _pk("lead")),
    "accounts:list": Endpoint(READ),
    "accounts:create": Endpoint(FORM),
    "accounts:lookup": Endpoint(READ, query=lambda world: {"id": world["account"].pk}),
    "accounts:detail": Endpoint(READ, _pk("account")),
    "accounts:edit": Endpoint(FORM, _pk("account")),
    "accounts:delete": Endpoint(ACTION, _pk("spare_account")),
    "accounts:contact_list": Endpoint(READ),
    "accounts:contact_create": Endpoint(FORM),
    "accounts:contact_lookup": Endpoint(READ, query=lambda world: {"id": world["contact"].pk}),
    "accounts:contact_detail": Endpoint(READ, _pk("contact")),
    "accounts:contact_edit": Endpoint(FORM, _pk("contact")),
    "accounts:contact_delete": Endpoint(ACTION, _pk("contact")),
    "opportunities:list": Endpoint(READ),
    "opportunities:create": Endpoint(FORM),
    "opportunities:detail": Endpoint(READ, _pk("opportunity")),
    "opportunities:edit": Endpoint(FORM, _pk("opportunity")),
    "opportunities:next_stage": Endpoint(ACTION, _pk("opportunity")),
    "opportunities:previous_stage": Endpoint(ACTION, _pk("opportunity")),
    "opportunities:close": Endpoint(ACTION, _pk("opportunity")),
    "opportunities:reopen": Endpoint(ACTION, _pk("closed_opportunity")),
    "opportunities:delete": Endpoint(ACTION, _pk("opportunity")),
    "opportunities:board": Endpoint(READ),
    "opportunities:move": Endpoint(ACTION, _pk("opportunity")),
    "opportunities:steps": Endpoint(FETCH, _pk("opportunity")),
    "opportunities:edit_steps": Endpoint(FORM, _pk("opportunity")),
    "opportunities:switch_process": Endpoint(FORM, _pk("opportunity")),
    "activities:list": Endpoint(READ),
    "activities:add": Endpoint(FORM, _regarding(type=Activity.Type.PHONE_CALL)),
    "activities:add_form": Endpoint(FETCH, _regarding(type=Activity.Type.EMAIL)),
    "activities:edit": Endpoint(FORM, _pk("activity")),
    "activities:complete": Endpoint(ACTION, _pk("activity")),
    "activities:cancel": Endpoint(ACTION, _pk("activity")),
    "activities:delete": Endpoint(ACTION, _pk("activity")),
    "activities:note_add": Endpoint(ACTION, _regarding()),
    "activities:note_edit": Endpoint(FORM, _pk("note")),
    "activities:note_delete": Endpoint(ACTION, _pk("note")),
    "activities:attachment": Endpoint(READ, _pk("note")),
    "activities:stakeholder_add": Endpoint(ACTION, _regarding()),
    "activities:stakeholder_new": Endpoint(ACTION, _regarding()),
    "activities:stakeholder_search": Endpoint(READ, _regarding()),
    "activities:stakeholder_role": Endpoint(ACTION, _pk("connection")),
    "activities:stakeholder_remove": Endpoint(ACTION, _pk("connection")),
    "imports:upload": Endpoint(FORM),
    "imports:mapping": Endpoint(FORM, lambda world: {"pk": _import_job(world).pk}),
    "imports:progress": Endpoint(OWNER, lambda world: {"pk": _import_job(world).pk}),
    "imports:cancel": Endpoint(ACTION, lambda world: {"pk": _import_job(world).pk}),
    "imports:problems": Endpoint(OWNER, lambda world: {"pk": _import_job(world).pk}),
    # Each user's own notifications: another rep's is refused (403).
    "notifications:list": Endpoint(READ),
    "notifications:bell": Endpoint(READ),
    "notifications:open": Endpoint(ACTION, _pk("notification")),
    "notifications:mark_all_read": Endpoint(ACTION),
    "notifications:email": Endpoint(ACTION),
    "jobs:list": Endpoint(MANAGERS),
    "tokens:list": Endpoint(FORM),
    "tokens:revoke": Endpoint(ACTION, _pk("token")),
    "jobs:retry": Endpoint(ACTION, _pk("job")),
}
WRITES = [name for name, e in ENDPOINTS.items() if e.kind in (FORM, ACTION)]
RECORD_WRITES = [name for name in WRITES if ENDPOINTS[name].kwargs]
ACTIONS = [name for name in WRITES if ENDPOINTS[name].kind == ACTION]

# A plausible body for every write: permission must be what refuses it, not bad input.
POST_DATA = {
    "topic": "Changed",
    "last_name": "Changed",
    "name": "Changed",
    "subject": "Changed",
    "text": "Changed",
    "reason": "lost",
    "role": "decision_maker",
    "outcome": "won",
    "status_reason": "won",
    "lead_ids": [],
}


def url_names() -> list[str]:
    names: list[str] = []

    def walk(patterns, namespace: str | None) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern).startswith("admin/"):
                    continue
                inner = ":".join(filter(None, [namespace, p.namespace]))
                walk(p.url_patterns, inner or None)
            elif isinstance(p, URLPattern):
                name = f"{namespace}:{p.name}" if namespace and p.name else p.name
                names.append(name or str(p.pattern))

    walk(get_resolver().url_patterns, None)
    return [n for n in names if n not in NOT_APP and not n.startswith(API)]


def url_of(name: str, world: dict | None = None) -> str:
    endpoint = ENDPOINTS[name]
    return reverse(name, kwargs=endpoint.kwargs(world) if endpoint.kwargs else None)


@pytest.fixture
def world(rep, settings, tmp_path):
    """Records owned by `rep`, one of each kind every URL acts on."""
    settings.MEDIA_ROOT = tmp_path
    lead = LeadFactory(owner=rep)
    account = AccountFactory(owner=rep)
    note = NoteFactory(lead=lead, author=rep)
    note.attachment.save("terms.txt", ContentFile(b"terms"), save=False)
    note.attachment_name, note.attachment_size = "terms.txt", 5
    note.save()
    return {
        "owner": rep,
        "lead": lead,
        "closed_lead": LeadFactory(owner=rep, disqualified=True),
        "account": account,
        "spare_account": AccountFactory(owner=rep),
        "contact": ContactFactory(owner=rep, account=account),
        "opportunity": OpportunityFactory(owner=rep, account=account),
        "closed_opportunity": OpportunityFactory(
            owner=rep, account=account, state="won", status_reason="won"
        ),
        "note": note,
        "activity": ActivityFactory(lead=lead, owner=rep),
        "connection": ConnectionFactory(lead=lead, contact=ContactFactory(owner=rep)),
        "token": ApiToken.objects.create(
            user=rep, name="t", key_hash="0" * 64, key_start="ll_0", read_only=True
        ),
        "job": Job.objects.create(kind="crm.prune_files", label="Prune", status="failed"),
        "bulk": BulkAction.objects.create(owner=rep, action="disqualify", query="view=my"),
        "export": LeadExport.objects.create(owner=rep, query="view=open", file_name="l.csv"),
        "notification": Notification.objects.create(
            user=rep, kind=Notification.Kind.ASSIGNED, text="Assigned", url=lead.get_absolute_url()
        ),
    }


def snapshot() -> dict:
    """Every row of every record kind the app writes."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Lead, Account, Contact, Opportunity, Note, Activity, Connection, Notification)
    }


def test_every_url_is_listed():
    missing = sorted(set(url_names()) - set(ENDPOINTS))
    assert not missing, f"Say in ENDPOINTS what these URLs are: {missing}"
    gone = sorted(set(ENDPOINTS) - set(url_names()))
    assert not gone, f"ENDPOINTS lists URLs that no longer exist: {gone}"


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_login(client, world, name, method):
    url = url_of(name, world)
    before = snapshot()
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    assert snapshot() == before


@pytest.mark.parametrize("name", RECORD_WRITES)
def test_rep_cannot_write_another_reps_record(client, world, rep2, name):
    client.force_login(rep2)
    url = url_of(name, world)
    before = snapshot()
    response = client.post(url, POST_DATA)
    assert response.status_code == 403, response.content[:300]
    assert snapshot() == before


@pytest.mark.parametrize("name", [n for n in RECORD_WRITES if ENDPOINTS[n].kind == FORM], ids=str)
def test_rep_cannot_open_the_form_for_another_reps_record(client, world, rep2, name):
    client.force_login(rep2)
    assert client.get(url_of(name, world)).status_code == 403


@pytest.mark.parametrize("name", ACTIONS)
def test_get_on_an_action_is_refused(client, world, name):
    client.force_login(world["owner"])
    before = snapshot()
    assert client.get(url_of(name, world)).status_code == 405
    assert snapshot() == before


@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if e.kind == READ])
def test_a_rep_reads_every_record(client, world, rep2, name):
    client.force_login(rep2)
    query = ENDPOINTS[name].query
    response = client.get(url_of(name, world), query(world) if query else None)
    assert response.status_code in (200, 302)
    if response.status_code == 302:  # "home" redirects to the lead list
        assert name == "home"


@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if e.kind == MANAGERS])
def test_only_managers_read_the_managers_pages(client, world, rep2, manager, name):
    client.force_login(rep2)
    assert client.get(url_of(name, world)).status_code == 403
    client.force_login(manager)
    assert client.get(url_of(name, world)).status_code == 200


@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if e.kind == OWNER])
def test_only_the_owner_and_managers_read_the_owners_pages(client, world, rep2, manager, name):
    url = url_of(name, world)
    client.force_login(rep2)
    assert client.get(url).status_code == 403
    for reader in (world["owner"], manager):
        client.force_login(reader)
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if e.kind == PERSONAL])
def test_only_the_owner_reads_the_personal_pages(client, world, rep2, manager, name):
    url = url_of(name, world)
    for other in (rep2, manager):
        client.force_login(other)
        assert client.get(url).status_code == 403
    client.force_login(world["owner"])
    assert client.get(url).status_code in (200, 410)  # 410: an export not ready


def test_bulk_disqualify_of_another_reps_leads_changes_nothing(client, world, rep2):
    client.force_login(rep2)
    before = snapshot()
    response = client.post(
        reverse("leads:bulk_disqualify"), {"lead_ids": [world["lead"].pk], "reason": "lost"}
    )
    assert response.status_code == 200
    assert "Only the owner or a sales manager" in response.content.decode()
    assert snapshot() == before


def test_bulk_qualify_of_another_reps_leads_changes_nothing(client, world, rep2):
    client.force_login(rep2)
    before = snapshot()
    response = client.post(reverse("leads:bulk_qualify"), {"lead_ids": [world["lead"].pk]})
    assert response.status_code == 200
    assert "Only the owner or a sales manager" in response.content.decode()
    assert snapshot() == before


def form_data(form) -> dict:
    """What the browser would post for the form as it is shown."""
    data = {}
    for field in form:
        value = field.value()
        if value is None or value is False:
            continue
        data[field.html_name] = "on" if value is True else value
    return data


def manager_changes(name: str, world: dict, manager) -> dict:
    if name == "leads:edit":
        form = LeadForm(instance=world["lead"], user=manager, can_assign=True)
        return {**form_data(form), "topic": "Manager's topic"}
    if name == "accounts:edit":
        form = AccountForm(instance=world["account"], user=manager)
        return {**form_data(form), "name": "Manager's name"}
    return {
        "leads:disqualify": {"reason": "lost"},
        "opportunities:next_stage": {},
        "activities:complete": {},
        "activities:stakeholder_role": {"role": "influencer"},
    }[name]


@pytest.mark.parametrize(
    "name",
    [
        "leads:edit",
        "leads:disqualify",
        "accounts:edit",
        "opportunities:next_stage",
        "activities:complete",
        "activities:stakeholder_role",
    ],
)
def test_a_manager_changes_a_reps_records(client, world, manager, name):
    client.force_login(manager)
    before = snapshot()
    response = client.post(url_of(name, world), manager_changes(name, world, manager))
    assert response.status_code == 302
    assert snapshot() != before, "the manager's change was not saved"


@pytest.mark.parametrize("record", ["lead", "closed_lead", "account", "contact", "opportunity"])
def test_pages_offer_no_write_buttons_to_a_rep_who_does_not_own_the_record(
    client, world, rep2, record
):
    """The owner sees the record's write actions; another rep sees none of them."""
    obj = world[record]
    url_names = {
        "lead": ["leads:edit", "leads:qualify", "leads:disqualify", "leads:delete"],
        "closed_lead": ["leads:reactivate", "leads:delete"],
        "account": ["accounts:edit"],
        "contact": ["accounts:contact_edit"],
        "opportunity": ["opportunities:edit", "opportunities:next_stage", "opportunities:close"],
    }[record]
    write_urls = [reverse(name, kwargs={"pk": obj.pk}) for name in url_names]
    write_urls.append(reverse("activities:note_add", kwargs={"kind": "lead", "pk": obj.pk}))

    client.force_login(world["owner"])
    owner_page = client.get(obj.get_absolute_url()).content.decode()
    client.force_login(rep2)
    other_page = client.get(obj.get_absolute_url()).content.decode()

    for url in write_urls[:-1]:
        assert url in owner_page, f"the owner is not offered {url}"
        assert url not in other_page, f"another rep is offered {url}"
    if record == "lead":
        assert write_urls[-1] in owner_page and write_urls[-1] not in other_page
