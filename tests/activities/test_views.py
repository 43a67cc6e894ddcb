"""The HTTP contract of the timeline, attachment download, My Activities and
stakeholder views: status codes, redirects, messages and what changed."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities.models import Activity, Connection, Note
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ConnectionFactory,
    ContactFactory,
    LeadFactory,
    NoteFactory,
    OpportunityFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def lead(rep):
    return LeadFactory(owner=rep, topic="Fifty laptops")


@pytest.fixture
def as_rep(client, rep):
    client.force_login(rep)
    return client


def note_add_url(record):
    return reverse("activities:note_add", args=[record._meta.model_name, record.pk])


def add_url(record, kind):
    return reverse("activities:add", args=[record._meta.model_name, record.pk, kind])


def add_form_url(record, kind):
    return reverse("activities:add_form", args=[record._meta.model_name, record.pk, kind])


HTMX = {"HX-Request": "true"}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Notes and attachments -----------------------------------------------------------------


def test_add_note_with_attachment_and_download_it(as_rep, lead, client, rep2):
    response = as_rep.post(
        note_add_url(lead),
        {"title": "NDA", "text": "Signed.", "attachment": SimpleUploadedFile("nda.pdf", b"%PDF")},
        follow=True,
    )

    note = Note.objects.get()
    assert response.redirect_chain[-1][0].endswith(f"{lead.get_absolute_url()}#timeline")
    assert "Note added." in messages_of(response)
    html = response.content.decode()
    assert "NDA" in html and "nda.pdf" in html and note.download_url in html

    # Another rep (who may read every lead) downloads it, as an attachment.
    client.force_login(rep2)
    download = client.get(note.download_url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF"
    assert download["Content-Disposition"] == 'attachment; filename="nda.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "application/octet-stream"


def test_download_refused_to_users_without_access(client, lead, rep):
    note = NoteFactory(lead=lead, author=rep)
    note.attachment.save("secret.pdf", SimpleUploadedFile("secret.pdf", b"x"), save=True)

    anonymous = client.get(note.download_url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]

    client.force_login(UserFactory())  # signed in, but no sales role
    assert client.get(note.download_url).status_code == 403

    missing = reverse("activities:attachment", args=[note.pk + 1000])
    client.force_login(rep)
    assert client.get(missing).status_code == 404


def test_media_files_are_not_served_at_a_public_url(as_rep, lead):
    as_rep.post(
        note_add_url(lead),
        {"text": "x", "attachment": SimpleUploadedFile("a.pdf", b"x")},
    )
    note = Note.objects.get()
    assert as_rep.get(f"/media/{note.attachment.name}").status_code == 404


def test_upload_too_large_shows_a_form_error_and_saves_nothing(as_rep, lead, settings, media):
    settings.NOTE_ATTACHMENT_MAX_BYTES = 100

    response = as_rep.post(
        note_add_url(lead),
        {"text": "big", "attachment": SimpleUploadedFile("big.pdf", b"x" * 101)},
    )

    assert response.status_code == 200
    assert "attachments may be at most 100" in response.content.decode()
    assert not Note.objects.exists()
    assert not any(p.is_file() for p in Path(media).rglob("*"))


def test_empty_upload_is_refused(as_rep, lead):
    response = as_rep.post(
        note_add_url(lead), {"text": "", "attachment": SimpleUploadedFile("e.pdf", b"")}
    )
    assert response.status_code == 200
    assert not Note.objects.exists()


def test_traversal_file_name_is_reduced_to_a_safe_name_inside_media(as_rep, lead, media):
    upload = SimpleUploadedFile("x.txt", b"data")
    upload.name = "../../../etc/cron.d/evil.txt"  # as a crafted multipart body would name it

    as_rep.post(note_add_url(lead), {"text": "x", "attachment": upload})

    note = Note.objects.get()
    assert ".." not in note.attachment.name and note.attachment_name == "evil.txt"
    assert Path(note.attachment.path).resolve().is_relative_to(Path(media).resolve())


def test_add_note_to_another_reps_lead_is_forbidden(as_rep, rep2):
    lead = LeadFactory(owner=rep2)
    response = as_rep.post(note_add_url(lead), {"text": "mine"})
    assert response.status_code == 403
    assert not Note.objects.exists()


def test_edit_and_delete_a_note(as_rep, lead, rep):
    note = NoteFactory(lead=lead, author=rep, text="old")
    edit = reverse("activities:note_edit", args=[note.pk])

    assert as_rep.get(edit).status_code == 200
    response = as_rep.post(edit, {"title": "", "text": "new text"})
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.text == "new text"

    response = as_rep.post(reverse("activities:note_delete", args=[note.pk]))
    assert response.status_code == 302
    assert not Note.objects.exists()


def test_another_rep_cannot_edit_or_delete_a_note(client, lead, rep, rep2):
    note = NoteFactory(lead=lead, author=rep, text="kept")
    client.force_login(rep2)

    assert client.get(reverse("activities:note_edit", args=[note.pk])).status_code == 403
    assert (
        client.post(reverse("activities:note_edit", args=[note.pk]), {"text": "x"}).status_code
        == 403
    )
    assert client.post(reverse("activities:note_delete", args=[note.pk])).status_code == 403
    note.refresh_from_db()
    assert note.text == "kept"


# --- Inactive leads: crafted requests change nothing ---------------------------------------


@pytest.mark.parametrize("state", ["qualified", "disqualified"])
def test_crafted_posts_against_an_inactive_lead_change_nothing(as_rep, rep, state):
    lead = LeadFactory(owner=rep, **{state: True})
    note = NoteFactory(lead=lead, author=rep, text="kept")
    activity = ActivityFactory(lead=lead, owner=rep, subject="Call back")
    connection = ConnectionFactory(lead=lead)
    posts = [
        (note_add_url(lead), {"text": "new"}),
        (add_url(lead, "task"), {"subject": "new task", "priority": "high"}),
        (reverse("activities:note_edit", args=[note.pk]), {"text": "changed"}),
        (reverse("activities:note_delete", args=[note.pk]), {}),
        (reverse("activities:edit", args=[activity.pk]), {"subject": "changed"}),
        (reverse("activities:complete", args=[activity.pk]), {}),
        (reverse("activities:cancel", args=[activity.pk]), {}),
        (reverse("activities:delete", args=[activity.pk]), {}),
        (
            reverse("activities:stakeholder_add", args=["lead", lead.pk]),
            {"contact": ContactFactory().pk, "role": "influencer"},
        ),
        (reverse("activities:stakeholder_role", args=[connection.pk]), {"role": "influencer"}),
        (reverse("activities:stakeholder_remove", args=[connection.pk]), {}),
    ]
    for url, data in posts:
        response = as_rep.post(url, data, follow=True)
        assert response.status_code == 200, url
        assert any("read-only" in m for m in messages_of(response)), url

    note.refresh_from_db()
    activity.refresh_from_db()
    connection.refresh_from_db()
    assert note.text == "kept"
    assert (activity.subject, activity.status) == ("Call back", "open")
    assert connection.role == "stakeholder"
    assert (Note.objects.count(), Activity.objects.count(), Connection.objects.count()) == (1, 1, 1)


def test_inactive_lead_page_shows_the_timeline_without_write_controls(as_rep, rep):
    lead = LeadFactory(owner=rep, disqualified=True)
    note = NoteFactory(lead=lead, author=rep, title="Old news")
    ActivityFactory(lead=lead, owner=rep, subject="Old call")

    html = as_rep.get(lead.get_absolute_url()).content.decode()

    assert "Old news" in html and "Old call" in html
    assert 'data-testid="timeline-read-only"' in html
    for absent in (
        note_add_url(lead),
        reverse("activities:note_edit", args=[note.pk]),
        'data-testid="add-activity"',
        'data-testid="complete-activity"',
        'data-testid="add-stakeholder"',
    ):
        assert absent not in html


@pytest.mark.parametrize(
    "name",
    [
        "note_delete",
        "complete",
        "cancel",
        "delete",
        "stakeholder_role",
        "stakeholder_remove",
    ],
)
def test_state_changing_urls_refuse_get(as_rep, name):
    assert as_rep.get(reverse(f"activities:{name}", args=[1])).status_code == 405


def test_adding_urls_refuse_get(as_rep, lead):
    assert as_rep.get(note_add_url(lead)).status_code == 405
    for name in ("stakeholder_add", "stakeholder_new"):
        assert as_rep.get(reverse(f"activities:{name}", args=["lead", lead.pk])).status_code == 405


def test_unknown_record_kind_or_type_is_404(as_rep, lead):
    assert as_rep.post(reverse("activities:note_add", args=["user", 1]), {}).status_code == 404
    assert as_rep.get(add_url(lead, "fax")).status_code == 404


# --- Activities ----------------------------------------------------------------------------


def test_log_a_phone_call_from_the_timeline_and_complete_it(as_rep, lead):
    response = as_rep.post(
        add_url(lead, "phone_call"),
        {"subject": "Discovery call", "direction": "outgoing", "phone_number": "555-0100"},
        follow=True,
    )
    call = Activity.objects.get()
    assert (call.type, call.subject, call.phone_number) == (
        "phone_call",
        "Discovery call",
        "555-0100",
    )
    assert "Discovery call" in response.content.decode()

    as_rep.post(reverse("activities:complete", args=[call.pk]))
    call.refresh_from_db()
    assert call.status == "completed"


def test_invalid_activity_shows_the_form_with_errors(as_rep, lead):
    start = timezone.localtime() + timedelta(days=1)
    response = as_rep.post(
        add_url(lead, "appointment"),
        {
            "subject": "Demo",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 200
    assert "cannot end before it starts" in response.content.decode()
    assert not Activity.objects.exists()


@pytest.mark.parametrize("kind", ["phone_call", "email", "task", "appointment"])
def test_each_activity_form_page_opens(as_rep, lead, kind):
    response = as_rep.get(add_url(lead, kind))
    assert response.status_code == 200


def test_record_page_fetches_activity_forms_only_when_opened(as_rep, lead):
    html = as_rep.get(lead.get_absolute_url()).content.decode()

    assert 'data-testid="note-form"' in html  # the note form stays inline
    assert 'name="subject"' not in html
    for kind in Activity.Type.values:
        assert f'data-testid="activity-form-{kind}"' not in html
        assert f'action="{add_url(lead, kind)}"' not in html
        assert f'hx-get="{add_form_url(lead, kind)}"' in html


@pytest.mark.parametrize("kind", ["phone_call", "email", "task", "appointment"])
def test_add_form_returns_the_inline_form_of_its_type(as_rep, lead, kind):
    response = as_rep.get(add_form_url(lead, kind), headers=HTMX)

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "activities/_activity_add_form.html"
    html = response.content.decode()
    assert "<html" not in html
    assert f'action="{add_url(lead, kind)}"' in html
    assert f'data-testid="activity-form-{kind}"' in html
    assert "csrfmiddlewaretoken" in html and 'name="subject"' in html
    assert 'name="owner"' not in html  # the inline form logs the activity as the user's own


def test_activity_posted_from_the_fetched_form_is_added(as_rep, lead):
    html = as_rep.get(add_form_url(lead, "task"), headers=HTMX).content.decode()
    assert f'action="{add_url(lead, "task")}"' in html

    response = as_rep.post(add_url(lead, "task"), {"subject": "Send deck", "priority": "high"})

    assert response["Location"] == f"{lead.get_absolute_url()}#timeline"
    assert Activity.objects.get().subject == "Send deck"


def test_add_form_on_another_reps_lead_is_forbidden(as_rep, rep2):
    lead = LeadFactory(owner=rep2)
    assert as_rep.get(add_form_url(lead, "phone_call"), headers=HTMX).status_code == 403
    closed = LeadFactory(owner=rep2, qualified=True)
    assert as_rep.get(add_form_url(closed, "phone_call"), headers=HTMX).status_code == 403


def test_add_form_of_a_read_only_lead_reloads_the_page_with_the_reason(as_rep, rep):
    lead = LeadFactory(owner=rep, disqualified=True)

    response = as_rep.get(add_form_url(lead, "task"), headers=HTMX)

    assert response.status_code == 200 and response["HX-Refresh"] == "true"
    assert "form" not in response.content.decode()
    page = as_rep.get(lead.get_absolute_url())
    assert any("read-only" in m for m in messages_of(page))

    # Opened without htmx, it sends the user back like activities:add does.
    direct = as_rep.get(add_form_url(lead, "task"), follow=True)
    assert direct.redirect_chain[-1][0].endswith(f"{lead.get_absolute_url()}#timeline")
    assert any("read-only" in m for m in messages_of(direct))


def test_add_form_of_an_unknown_type_or_record_is_404(as_rep, lead):
    assert as_rep.get(add_form_url(lead, "fax"), headers=HTMX).status_code == 404
    missing = reverse("activities:add_form", args=["lead", lead.pk + 1000, "task"])
    assert as_rep.get(missing, headers=HTMX).status_code == 404
    unknown = reverse("activities:add_form", args=["user", lead.pk, "task"])
    assert as_rep.get(unknown, headers=HTMX).status_code == 404


def test_add_form_refuses_post(as_rep, lead):
    response = as_rep.post(add_form_url(lead, "task"), {"subject": "x", "priority": "high"})
    assert response.status_code == 405
    assert not Activity.objects.exists()


def test_garbage_dates_get_a_form_error_not_a_500(as_rep, lead):
    response = as_rep.post(
        add_url(lead, "task"), {"subject": "x", "priority": "high", "due_at": "31/31/31"}
    )
    assert response.status_code == 200
    assert not Activity.objects.exists()


# --- My Activities -------------------------------------------------------------------------


def test_my_activities_lists_my_open_activities_with_filters(as_rep, rep, rep2, lead):
    now = timezone.now()
    overdue = ActivityFactory(
        lead=lead, owner=rep, subject="Overdue call", due_at=now - timedelta(days=3)
    )
    ActivityFactory(lead=lead, owner=rep, subject="Done call", status="completed")
    task = ActivityFactory(
        lead=lead, owner=rep, type="task", subject="Send deck", due_at=now + timedelta(days=40)
    )
    ActivityFactory(lead=LeadFactory(owner=rep2), owner=rep2, subject="Not mine")

    default = as_rep.get(reverse("activities:list")).content.decode()
    assert "Overdue call" in default and "Send deck" in default
    assert "Done call" not in default and "Not mine" not in default

    only_overdue = as_rep.get(reverse("activities:list"), {"due": "overdue"}).content.decode()
    assert "Overdue call" in only_overdue and "Send deck" not in only_overdue

    tasks = as_rep.get(reverse("activities:list"), {"type": "task"}).content.decode()
    assert "Send deck" in tasks and "Overdue call" not in tasks

    everything = as_rep.get(reverse("activities:list"), {"status": "all"}).content.decode()
    assert "Done call" in everything

    by_subject = as_rep.get(reverse("activities:list"), {"sort": "-subject"}).context["page"]
    subjects = [a.subject for a in by_subject.object_list]
    assert subjects == sorted(subjects, reverse=True)
    assert {a.pk for a in by_subject.object_list} == {overdue.pk, task.pk}


def test_my_activities_bad_filter_values_do_not_500(as_rep):
    response = as_rep.get(
        reverse("activities:list"), {"due": "yesterday", "type": "fax", "sort": "x"}
    )
    assert response.status_code == 200


def test_complete_from_my_activities_returns_there(as_rep, rep, lead):
    call = ActivityFactory(lead=lead, owner=rep)
    back = reverse("activities:list") + "?type=phone_call"
    response = as_rep.post(reverse("activities:complete", args=[call.pk]), {"next": back})
    assert response["Location"] == back
    evil = as_rep.post(
        reverse("activities:cancel", args=[ActivityFactory(lead=lead).pk]),
        {"next": "https://evil.example/"},
    )
    assert not evil["Location"].startswith("https://evil")


# --- Timelines on every record page --------------------------------------------------------


def test_every_record_page_shows_its_timeline(as_rep, rep):
    account = AccountFactory(owner=rep)
    records = [
        LeadFactory(owner=rep),
        account,
        ContactFactory(owner=rep),
        OpportunityFactory(owner=rep, account=account),
    ]
    for record in records:
        kind = record._meta.model_name
        NoteFactory(**{kind: record}, title=f"Note on {kind}")
        ActivityFactory(**{kind: record}, subject=f"Call on {kind}")
        html = as_rep.get(record.get_absolute_url()).content.decode()
        assert f"Note on {kind}" in html and f"Call on {kind}" in html
        assert note_add_url(record) in html  # the owner may add


@pytest.mark.parametrize("kind", ["lead", "opportunity", "account", "contact"])
def test_record_page_query_count_is_flat_with_a_200_item_timeline(
    as_rep, rep, kind, django_assert_max_num_queries
):
    account = AccountFactory(owner=rep)
    record = {
        "lead": lambda: LeadFactory(owner=rep),
        "opportunity": lambda: OpportunityFactory(owner=rep, account=account),
        "account": lambda: account,
        "contact": lambda: ContactFactory(owner=rep, account=account),
    }[kind]()
    NoteFactory(**{kind: record})
    ActivityFactory(**{kind: record})
    as_rep.get(record.get_absolute_url())  # warm caches (content types, flow)
    with CaptureQueriesContext(connection) as small:
        as_rep.get(record.get_absolute_url())
    for i in range(100):
        NoteFactory(**{kind: record})
        ActivityFactory(**{kind: record}, owner=rep if i % 2 else UserFactory())
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = as_rep.get(record.get_absolute_url())
    # 202 items on the timeline; one page of them is rendered.
    assert len(response.context["timeline"].items) == 20
    assert response.context["timeline"].has_next


def test_timeline_pages(as_rep, lead):
    for _ in range(25):
        NoteFactory(lead=lead)
    page2 = as_rep.get(lead.get_absolute_url(), {"timeline_page": 2})
    assert len(page2.context["timeline"].items) == 5


def test_opportunity_shows_lead_notes_read_only_with_download(as_rep, rep):
    lead = LeadFactory(owner=rep, qualified=True)
    note = NoteFactory(lead=lead, author=rep, title="From the lead")
    note.attachment.save("brief.pdf", SimpleUploadedFile("brief.pdf", b"x"), save=False)
    note.attachment_name = "brief.pdf"
    note.save()
    opportunity = OpportunityFactory(owner=rep, originating_lead=lead)

    html = as_rep.get(opportunity.get_absolute_url()).content.decode()

    assert "From the lead" in html and note.download_url in html
    assert reverse("activities:note_edit", args=[note.pk]) not in html


# --- Stakeholders --------------------------------------------------------------------------


def test_search_and_add_a_stakeholder_with_a_role(as_rep, lead):
    nancy = ContactFactory(
        first_name="Nancy", last_name="Davolio", account=AccountFactory(name="Northwind")
    )
    ContactFactory(first_name="Andrew", last_name="Fuller")
    search = reverse("activities:stakeholder_search", args=["lead", lead.pk])

    found = as_rep.get(search, {"q": "nan north"}).content.decode()
    assert "Nancy Davolio" in found and "Andrew Fuller" not in found

    response = as_rep.post(
        reverse("activities:stakeholder_add", args=["lead", lead.pk]),
        {"contact": nancy.pk, "role": "decision_maker"},
        follow=True,
    )
    connection = Connection.objects.get()
    assert (connection.lead, connection.contact, connection.role) == (lead, nancy, "decision_maker")
    assert "Nancy Davolio added as Decision Maker." in messages_of(response)

    # Already a stakeholder: no longer offered.
    assert "Nancy Davolio" not in as_rep.get(search, {"q": "nancy"}).content.decode()


def test_add_stakeholder_with_bad_input_changes_nothing(as_rep, lead):
    url = reverse("activities:stakeholder_add", args=["lead", lead.pk])
    for data in (
        {},
        {"contact": "abc"},
        {"contact": 999999},
        {"contact": ContactFactory().pk, "role": "king"},
    ):
        response = as_rep.post(url, data, follow=True)
        assert response.status_code == 200
        assert messages_of(response)
    assert not Connection.objects.exists()


def test_new_contact_stakeholder_with_duplicate_warning(as_rep, lead):
    ContactFactory(first_name="Anne", last_name="Dodsworth", email="anne@contoso.example")
    url = reverse("activities:stakeholder_new", args=["lead", lead.pk])
    data = {"first_name": "Anne", "last_name": "Dodsworth", "email": "", "role": "influencer"}

    warning = as_rep.post(url, data)
    assert warning.status_code == 200
    assert 'data-testid="stakeholder-duplicates"' in warning.content.decode()
    assert not Connection.objects.exists()

    as_rep.post(url, data | {"ignore_duplicates": "on"})
    connection = Connection.objects.get()
    assert connection.role == "influencer" and connection.contact.last_name == "Dodsworth"


def test_change_role_and_remove_stakeholder(as_rep, lead):
    connection = ConnectionFactory(lead=lead)
    as_rep.post(
        reverse("activities:stakeholder_role", args=[connection.pk]), {"role": "technical_buyer"}
    )
    connection.refresh_from_db()
    assert connection.role == "technical_buyer"

    as_rep.post(reverse("activities:stakeholder_remove", args=[connection.pk]))
    assert not Connection.objects.exists()


def test_stakeholders_of_another_reps_lead_are_read_only(client, rep2, lead):
    connection = ConnectionFactory(lead=lead)
    client.force_login(rep2)

    html = client.get(lead.get_absolute_url()).content.decode()
    assert 'data-testid="stakeholder-role-text"' in html
    assert (
        client.post(reverse("activities:stakeholder_remove", args=[connection.pk])).status_code
        == 403
    )
    assert Connection.objects.exists()


# --- Deleting accounts, contacts, opportunities --------------------------------------------


def test_manager_deletes_an_account_from_its_page(client, manager):
    account = AccountFactory(owner=manager, name="Gone Ltd")
    NoteFactory(account=account)
    client.force_login(manager)

    assert (
        reverse("accounts:delete", args=[account.pk])
        in client.get(account.get_absolute_url()).content.decode()
    )
    response = client.post(reverse("accounts:delete", args=[account.pk]), follow=True)

    assert "Account “Gone Ltd” deleted." in messages_of(response)
    assert not Note.objects.exists()


def test_rep_cannot_delete_an_account(as_rep, rep):
    account = AccountFactory(owner=rep)
    assert (
        reverse("accounts:delete", args=[account.pk])
        not in as_rep.get(account.get_absolute_url()).content.decode()
    )
    assert as_rep.post(reverse("accounts:delete", args=[account.pk])).status_code == 403


def test_deleting_a_customer_account_is_refused_with_a_message(client, manager):
    opportunity = OpportunityFactory(owner=manager, account=AccountFactory(owner=manager))
    client.force_login(manager)
    response = client.post(reverse("accounts:delete", args=[opportunity.account.pk]), follow=True)
    assert any("Nothing was deleted" in m for m in messages_of(response))


def test_manager_deletes_an_opportunity(client, manager):
    opportunity = OpportunityFactory(owner=manager)
    ConnectionFactory(opportunity=opportunity)
    client.force_login(manager)
    response = client.post(reverse("opportunities:delete", args=[opportunity.pk]))
    assert response.status_code == 302
    assert not Connection.objects.exists()
