"""The API's accounts, contacts, notes (with attachments), activities and
stakeholders, and the bulk qualify and disqualify: the same services as the
pages, keyset pages, versions, and problem+json refusals that change nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Account, Contact
from activities.models import Activity, Connection, Note
from leads.models import Lead
from opportunities.models import Opportunity
from tests.api.test_leads_api import client_for
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    LeadFactory,
    NoteFactory,
    OpportunityFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def all_pages(client, url, **params) -> list[dict]:
    rows, page = [], client.get(url, params)
    while True:
        assert page.status_code == 200, page.content
        rows += page.json()["results"]
        if not page.json()["next"]:
            return rows
        page = client.get(page.json()["next"])


# --- Accounts and contacts -----------------------------------------------------------------


def test_an_account_is_created_read_and_changed_with_its_version(rep):
    client = client_for(rep)
    created = client.post(reverse("api:accounts"), {"name": "Fabrikam", "city": "Oslo"})
    assert created.status_code == 201, created.content
    account = Account.objects.get(name="Fabrikam")
    assert account.owner == rep and created["Location"].endswith(f"/accounts/{account.pk}/")
    read = client.get(reverse("api:account", args=[account.pk]))
    assert read.json()["city"] == "Oslo" and read["ETag"] == created["ETag"]

    changed = client.patch(
        read.wsgi_request.path, {"city": "Bergen"}, HTTP_IF_MATCH=read["ETag"], format="json"
    )
    assert changed.status_code == 200 and changed.json()["city"] == "Bergen"
    assert changed["ETag"] != read["ETag"]

    stale = client.patch(
        read.wsgi_request.path, {"city": "Trondheim"}, HTTP_IF_MATCH=read["ETag"], format="json"
    )
    assert stale.status_code == 412 and stale.json()["code"] == "account_changed"
    account.refresh_from_db()
    assert account.city == "Bergen"


def test_the_account_list_filters_searches_sorts_and_pages(rep, rep2):
    for name in ("Beta", "Alpha", "Gamma", "Delta", "Alpine"):
        AccountFactory(name=name, owner=rep)
    AccountFactory(name="Alps of rep2", owner=rep2)
    client = client_for(rep)
    url = reverse("api:accounts")

    rows = all_pages(client, url, sort="name", limit=2, owner=rep.pk)
    assert [r["name"] for r in rows] == ["Alpha", "Alpine", "Beta", "Delta", "Gamma"]
    rows = all_pages(client, url, sort="-name", limit=2, owner=rep.pk)
    assert [r["name"] for r in rows] == ["Gamma", "Delta", "Beta", "Alpine", "Alpha"]
    assert {r["name"] for r in all_pages(client, url, q="alp")} == {
        "Alpha",
        "Alpine",
        "Alps of rep2",
    }
    newest = client.get(url, {"limit": 1}).json()["results"][0]
    assert newest["name"] == "Alps of rep2"  # newest first by default

    for params, field in (
        ({"sort": "city"}, "sort"),
        ({"cursor": "nonsense"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"owner": "x"}, "owner"),
    ):
        refused = client.get(url, params)
        assert refused.status_code == 400, params
        assert field in refused.json()["errors"]
    page = client.get(url, {"sort": "name", "limit": 1}).json()
    other_sort = page["next"].replace("sort=name", "sort=created")
    assert client.get(other_sort).status_code == 400  # a cursor belongs to its sort


def test_the_list_reads_a_page_in_a_few_queries(rep, django_assert_max_num_queries):
    for _ in range(30):
        ContactFactory(owner=rep, account=AccountFactory(owner=rep))
    client = client_for(rep)
    client.get(reverse("api:contacts"))  # the token's first use is recorded
    with django_assert_max_num_queries(6):
        page = client.get(reverse("api:contacts"), {"limit": 25})
    assert len(page.json()["results"]) == 25


def test_contacts_filter_by_account(rep):
    account = AccountFactory(owner=rep)
    mine = ContactFactory(owner=rep, account=account, last_name="Inside")
    ContactFactory(owner=rep, last_name="Outside")
    rows = all_pages(client_for(rep), reverse("api:contacts"), account=account.pk)
    assert [r["id"] for r in rows] == [mine.pk]
    assert rows[0]["full_name"] == mine.full_name


def test_an_account_that_is_a_customer_is_not_deleted(manager):
    opportunity = OpportunityFactory(owner=manager)
    account = opportunity.account or AccountFactory(owner=manager)
    Opportunity.objects.filter(pk=opportunity.pk).update(account=account)
    response = client_for(manager).delete(reverse("api:account", args=[account.pk]))
    assert response.status_code == 409 and response.json()["code"] == "is_a_customer"
    assert Account.objects.filter(pk=account.pk).exists()


def test_a_rep_may_not_give_an_account_to_someone_else(rep, rep2):
    response = client_for(rep).post(reverse("api:accounts"), {"name": "X", "owner": rep2.pk})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not Account.objects.filter(name="X").exists()


# --- Notes ---------------------------------------------------------------------------------


def test_a_note_with_an_attachment_is_uploaded_and_downloaded(rep, media):
    lead = LeadFactory(owner=rep)
    client = client_for(rep)
    upload = SimpleUploadedFile("plan.pdf", b"%PDF-1.4 the plan")
    created = client.post(
        reverse("api:notes"),
        {"lead": lead.pk, "text": "The plan", "attachment": upload},
        format="multipart",
    )
    assert created.status_code == 201, created.content
    note = created.json()
    assert note["lead"] == lead.pk and note["author"] == rep.pk
    assert note["attachment_name"] == "plan.pdf" and note["attachment_size"] == 17
    download = client.get(note["attachment_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 the plan"
    assert "attachment" in download["Content-Disposition"]

    rows = all_pages(client, reverse("api:notes"), lead=lead.pk)
    assert [r["id"] for r in rows] == [note["id"]]


def test_bad_notes_are_refused_and_nothing_is_saved(rep, rep2, media):
    lead = LeadFactory(owner=rep)
    client = client_for(rep)
    url = reverse("api:notes")
    cases = [
        ({"text": "Regards nothing"}, 400, "invalid"),
        ({"lead": lead.pk, "account": AccountFactory(owner=rep).pk, "text": "Two"}, 400, "invalid"),
        ({"lead": lead.pk}, 400, "invalid"),  # no text, no file
        ({"lead": 10**9, "text": "No such lead"}, 400, "invalid"),
        (
            {"lead": lead.pk, "attachment": SimpleUploadedFile("run.exe", b"MZ")},
            400,
            "invalid",
        ),
    ]
    for body, status, code in cases:
        response = client.post(url, body, format="multipart")
        assert response.status_code == status, (body, response.content)
        assert response.json()["code"] == code
    theirs = client_for(rep2).post(url, {"lead": lead.pk, "text": "Not my lead"})
    assert theirs.status_code == 403
    assert not Note.objects.exists()


def test_a_note_is_changed_and_deleted_by_its_author(rep, rep2):
    note = NoteFactory(lead=LeadFactory(owner=rep), text="First")
    url = reverse("api:note", args=[note.pk])
    assert client_for(rep2).patch(url, {"text": "Theirs"}, format="json").status_code == 403
    changed = client_for(rep).patch(url, {"text": "Second", "lead": 5}, format="json")
    assert changed.status_code == 200 and changed.json()["text"] == "Second"
    assert changed.json()["lead"] == note.lead_id  # what a note regards stays
    assert client_for(rep).delete(url).status_code == 204
    assert not Note.objects.exists()


def test_an_inactive_records_timeline_is_read_only(rep):
    lead = LeadFactory(owner=rep, state=Lead.State.DISQUALIFIED, status_reason="lost")
    response = client_for(rep).post(reverse("api:notes"), {"lead": lead.pk, "text": "Late"})
    assert response.status_code == 409 and response.json()["code"] == "record_read_only"


# --- Activities ----------------------------------------------------------------------------


def test_an_activity_is_logged_completed_and_listed(rep):
    lead = LeadFactory(owner=rep)
    client = client_for(rep)
    created = client.post(
        reverse("api:activities"),
        {"lead": lead.pk, "type": "task", "subject": "Send the quote", "priority": "high"},
        format="json",
    )
    assert created.status_code == 201, created.content
    task = created.json()
    assert task["status"] == "open" and task["priority"] == "high" and task["owner"] == rep.pk

    done = client.post(reverse("api:activity_complete", args=[task["id"]]))
    assert done.status_code == 200 and done.json()["status"] == "completed"
    again = client.post(reverse("api:activity_cancel", args=[task["id"]]))
    assert again.status_code == 409 and again.json()["code"] == "activity_not_open"

    url = reverse("api:activities")
    assert all_pages(client, url, lead=lead.pk) == []  # open ones by default
    assert [r["id"] for r in all_pages(client, url, lead=lead.pk, status="all")] == [task["id"]]
    assert client.get(url, {"status": "someday"}).status_code == 400


def test_an_activity_takes_only_its_types_fields(rep):
    lead = LeadFactory(owner=rep)
    client = client_for(rep)
    url = reverse("api:activities")
    call = {"lead": lead.pk, "type": "phone_call", "subject": "Call", "priority": "high"}
    refused = client.post(url, call, format="json")
    assert refused.status_code == 400 and "priority" in refused.json()["errors"]
    meeting = {"lead": lead.pk, "type": "appointment", "subject": "Meet"}
    refused = client.post(url, meeting, format="json")
    assert refused.status_code == 400 and "starts_at" in refused.json()["errors"]
    assert not Activity.objects.exists()

    activity = ActivityFactory(lead=lead, type="phone_call")
    detail = reverse("api:activity", args=[activity.pk])
    changed = client.patch(detail, {"type": "task", "phone_number": "+47 1234"}, format="json")
    assert changed.status_code == 200
    assert changed.json()["type"] == "phone_call"  # an activity keeps its type
    assert changed.json()["phone_number"] == "+47 1234"


# --- Stakeholders --------------------------------------------------------------------------


def test_stakeholders_are_added_changed_and_removed(rep):
    opportunity = OpportunityFactory(owner=rep)
    contact = ContactFactory(owner=rep)
    client = client_for(rep)
    url = reverse("api:stakeholders")
    body = {"opportunity": opportunity.pk, "contact": contact.pk, "role": "decision_maker"}
    added = client.post(url, body, format="json")
    assert added.status_code == 201, added.content
    again = client.post(url, body, format="json")
    assert again.status_code == 400 and "contact" in again.json()["errors"]

    detail = reverse("api:stakeholder", args=[added.json()["id"]])
    changed = client.patch(detail, {"role": "influencer"}, format="json")
    assert changed.status_code == 200 and changed.json()["role"] == "influencer"
    listed = all_pages(client, url, opportunity=opportunity.pk)
    assert [(r["contact"], r["role"]) for r in listed] == [(contact.pk, "influencer")]
    assert client.delete(detail).status_code == 204
    assert not Connection.objects.exists()


def test_a_stakeholder_needs_a_lead_or_an_opportunity(rep):
    contact = ContactFactory(owner=rep)
    client = client_for(rep)
    response = client.post(reverse("api:stakeholders"), {"contact": contact.pk}, format="json")
    assert response.status_code == 400 and "regarding" in response.json()["errors"]
    # A stakeholder is a lead's or an opportunity's: an account is no field of it.
    response = client.post(
        reverse("api:stakeholders"), {"contact": contact.pk, "account": 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"account": ["This operation has no such field."]}


# --- Bulk actions --------------------------------------------------------------------------


def test_bulk_qualify_answers_each_lead_and_settles_duplicates_by_choice(rep, rep2):
    existing = AccountFactory(name="Contoso Ltd")
    plain = LeadFactory(owner=rep, company_name="Northwind")
    duplicate = LeadFactory(owner=rep, company_name="Contoso Ltd")
    theirs = LeadFactory(owner=rep2)
    client = client_for(rep)
    url = reverse("api:leads_qualify")
    ids = [plain.pk, duplicate.pk, theirs.pk, 10**9]
    body = {"leads": ids, "create_account": True, "create_opportunity": True, "currency": "USD"}

    answer = client.post(url, body, format="json")
    assert answer.status_code == 200, answer.content
    outcomes = {o["lead"]: o for o in answer.json()["outcomes"]}
    assert [o["lead"] for o in answer.json()["outcomes"]] == ids
    assert answer.json()["done"] == 1
    assert outcomes[plain.pk]["ok"] and outcomes[plain.pk]["opportunity"]
    assert outcomes[duplicate.pk]["problem"]["code"] == "duplicates_found"
    assert outcomes[duplicate.pk]["problem"]["accounts"] == [
        {"id": existing.pk, "name": "Contoso Ltd"}
    ]
    assert outcomes[theirs.pk]["problem"]["code"] == "permission_denied"
    assert outcomes[10**9]["problem"]["code"] == "not_found"
    assert Lead.objects.get(pk=theirs.pk).state == Lead.State.OPEN

    choice = {"lead": duplicate.pk, "existing_account": existing.pk}
    stray = client.post(url, {**body, "leads": [plain.pk], "choices": [choice]}, format="json")
    assert stray.status_code == 400 and str(duplicate.pk) in stray.json()["errors"]["choices"][0]
    settled = client.post(
        url, {**body, "leads": [duplicate.pk], "choices": [choice]}, format="json"
    )
    [outcome] = settled.json()["outcomes"]
    assert outcome["ok"] and outcome["account"] == existing.pk


def test_bulk_disqualify_with_one_reason(rep):
    leads = [LeadFactory(owner=rep) for _ in range(3)]
    client = client_for(rep)
    url = reverse("api:leads_disqualify")
    refused = client.post(url, {"leads": [leads[0].pk], "status_reason": "won"}, format="json")
    assert refused.status_code == 400
    too_many = client.post(url, {"leads": list(range(1, 1002)), "status_reason": "lost"})
    assert too_many.status_code == 400
    answer = client.post(
        url, {"leads": [lead.pk for lead in leads], "status_reason": "lost"}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["done"] == 3
    assert set(Lead.objects.values_list("state", flat=True)) == {Lead.State.DISQUALIFIED}


def test_an_opportunity_update_with_a_stale_version_is_412(rep):
    opportunity = OpportunityFactory(owner=rep, name="First")
    client = client_for(rep)
    url = reverse("api:opportunity", args=[opportunity.pk])
    read = client.get(url)
    client.patch(url, {"name": "Second"}, HTTP_IF_MATCH=read["ETag"], format="json")
    stale = client.patch(url, {"name": "Third"}, HTTP_IF_MATCH=read["ETag"], format="json")
    assert stale.status_code == 412 and stale.json()["code"] == "opportunity_changed"
    assert Opportunity.objects.get().name == "Second"


def test_contact_version_is_checked_under_the_lock(rep):
    """The service refuses a version gone between the API's read and its lock."""
    from accounts.services import update_contact
    from crm.services import RecordChanged

    contact = ContactFactory(owner=rep)
    read = contact.modified_at
    update_contact(contact=contact, user=rep, job_title="CTO")
    with pytest.raises(RecordChanged):
        update_contact(contact=contact, user=rep, expected_modified_at=read, job_title="CEO")
    assert Contact.objects.get().job_title == "CTO"
