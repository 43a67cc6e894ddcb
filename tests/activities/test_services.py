"""Notes, activities and stakeholders: every rule of activities.services and the
cascades of the delete services."""

from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Contact
from activities import selectors, services
from activities.exceptions import ActivityNotOpen, DuplicateContacts, RecordReadOnly
from activities.models import Activity, Connection, Note
from leads import services as lead_services
from opportunities import services as opportunity_services
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


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media) -> list[Path]:
    return [p for p in Path(media).rglob("*") if p.is_file()]


def upload(name="offer.pdf", content=b"%PDF-1.4 offer"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def lead(rep):
    return LeadFactory(owner=rep)


# --- Notes ---------------------------------------------------------------------------------


def test_create_note_stores_the_attachment_under_media_root_with_a_safe_name(rep, lead, media):
    note = services.create_note(
        user=rep,
        regarding=lead,
        text="Signed NDA attached.",
        attachment=upload("Offer (final) v2.pdf"),
    )

    note.refresh_from_db()
    assert note.lead == lead and note.author == rep
    assert note.attachment_name == "Offer_final_v2.pdf"
    assert note.attachment_size == len(b"%PDF-1.4 offer")
    assert note.attachment.name.startswith("notes/")
    assert note.attachment.name.endswith("/Offer_final_v2.pdf")
    path = Path(note.attachment.path).resolve()
    assert path.is_relative_to(Path(media).resolve())
    assert path.read_bytes() == b"%PDF-1.4 offer"


def test_create_note_with_text_only(rep, lead):
    note = services.create_note(user=rep, regarding=lead, title="Call", text="  Budget 15k.  ")

    assert (note.title, note.text, note.attachment.name) == ("Call", "Budget 15k.", "")


def test_create_note_refuses_an_empty_note(rep, lead):
    with pytest.raises(ValidationError, match="Write a note or attach a file"):
        services.create_note(user=rep, regarding=lead, text="   ")
    assert not Note.objects.exists()


def test_create_note_refuses_a_file_over_the_size_limit(rep, lead, media, settings):
    settings.NOTE_ATTACHMENT_MAX_BYTES = 10

    with pytest.raises(ValidationError, match="at most 10"):
        services.create_note(
            user=rep, regarding=lead, text="x", attachment=upload(content=b"x" * 11)
        )

    assert not Note.objects.exists()
    assert stored_files(media) == []


def test_the_default_size_limit_is_10_mb(settings):
    assert settings.NOTE_ATTACHMENT_MAX_BYTES == 10 * 1024 * 1024


def test_create_note_refuses_an_empty_file(rep, lead, media):
    with pytest.raises(ValidationError, match="empty"):
        services.create_note(user=rep, regarding=lead, text="x", attachment=upload(content=b""))
    assert not Note.objects.exists()
    assert stored_files(media) == []


@pytest.mark.parametrize("name", ["../../etc/passwd.txt", "..\\boot.ini", "a/../../b.txt", ".."])
def test_create_note_refuses_a_file_name_with_a_path(rep, lead, media, name):
    # Django's upload handler strips paths from browser uploads; a File passed
    # by other code keeps its name, and such a name is refused, not guessed at.
    crafted = File(ContentFile(b"data"), name=name)

    with pytest.raises(ValidationError, match="not allowed"):
        services.create_note(user=rep, regarding=lead, text="x", attachment=crafted)

    assert not Note.objects.exists()
    assert stored_files(media) == []


@pytest.mark.parametrize("name", ["setup.exe", "page.HTML", "image.svg", "run.js"])
def test_create_note_refuses_blocked_file_types(rep, lead, media, name):
    with pytest.raises(ValidationError, match="cannot be attached"):
        services.create_note(user=rep, regarding=lead, text="x", attachment=upload(name))
    assert stored_files(media) == []


def test_a_note_row_that_cannot_be_saved_leaves_no_file(rep, lead, media):
    with (
        mock.patch.object(Note, "save", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        services.create_note(user=rep, regarding=lead, text="x", attachment=upload())

    assert stored_files(media) == []


def test_note_on_every_kind_of_record(rep):
    account = AccountFactory(owner=rep)
    contact = ContactFactory(owner=rep)
    opportunity = OpportunityFactory(owner=rep, account=account)

    for record in (account, contact, opportunity):
        note = services.create_note(user=rep, regarding=record, text="hello")
        assert note.regarding == record


def test_rep_cannot_add_a_note_to_another_reps_record_but_a_manager_can(rep, rep2, manager):
    lead = LeadFactory(owner=rep2)

    with pytest.raises(PermissionDenied):
        services.create_note(user=rep, regarding=lead, text="mine now")
    services.create_note(user=manager, regarding=lead, text="coaching")

    assert list(Note.objects.values_list("author__username", flat=True)) == ["manager"]


def test_update_note_by_author_or_manager_only(rep, rep2, manager, lead):
    note = NoteFactory(lead=lead, author=rep, text="old")

    with pytest.raises(PermissionDenied):
        services.update_note(note=note, user=rep2, text="hijack")
    services.update_note(note=note, user=rep, text="by author")
    services.update_note(note=note, user=manager, text="by manager")

    note.refresh_from_db()
    assert note.text == "by manager"


def test_replacing_an_attachment_deletes_the_old_file_after_commit(
    rep, lead, media, django_capture_on_commit_callbacks
):
    note = services.create_note(user=rep, regarding=lead, text="v1", attachment=upload("v1.pdf"))
    old = Path(note.attachment.path)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.update_note(note=note, user=rep, attachment=upload("v2.pdf"))
    assert old.exists()  # not before the commit
    for callback in callbacks:
        callback()

    note.refresh_from_db()
    assert note.attachment_name == "v2.pdf"
    assert not old.exists()
    assert [p.name for p in stored_files(media)] == ["v2.pdf"]


def test_removing_the_attachment_of_a_note_without_text_is_refused(rep, lead):
    note = services.create_note(user=rep, regarding=lead, attachment=upload())

    with pytest.raises(ValidationError, match="Write a note"):
        services.update_note(note=note, user=rep, remove_attachment=True)
    note.refresh_from_db()
    assert note.attachment


def test_delete_note_removes_its_file_after_commit(
    rep, lead, media, django_capture_on_commit_callbacks
):
    note = services.create_note(user=rep, regarding=lead, text="x", attachment=upload())

    with django_capture_on_commit_callbacks(execute=True):
        services.delete_note(note=note, user=rep)

    assert not Note.objects.exists()
    assert stored_files(media) == []


def test_delete_note_refused_for_another_rep(rep, rep2, lead):
    note = NoteFactory(lead=lead, author=rep)
    with pytest.raises(PermissionDenied):
        services.delete_note(note=note, user=rep2)
    assert Note.objects.filter(pk=note.pk).exists()


# --- Read-only inactive records ------------------------------------------------------------


@pytest.fixture(params=["qualified", "disqualified"])
def inactive_lead(request, rep):
    return LeadFactory(owner=rep, **{request.param: True})


def test_inactive_lead_timeline_refuses_every_write(rep, manager, inactive_lead):
    note = NoteFactory(lead=inactive_lead, author=rep, text="kept")
    activity = ActivityFactory(lead=inactive_lead, owner=rep)
    contact = ContactFactory(owner=rep)
    connection = ConnectionFactory(lead=inactive_lead)
    writes = [
        lambda user: services.create_note(user=user, regarding=inactive_lead, text="new"),
        lambda user: services.update_note(note=note, user=user, text="changed"),
        lambda user: services.delete_note(note=note, user=user),
        lambda user: services.create_activity(
            user=user, regarding=inactive_lead, type="task", subject="x"
        ),
        lambda user: services.update_activity(activity=activity, user=user, subject="changed"),
        lambda user: services.complete_activity(activity=activity, user=user),
        lambda user: services.cancel_activity(activity=activity, user=user),
        lambda user: services.delete_activity(activity=activity, user=user),
        lambda user: services.add_stakeholder(user=user, record=inactive_lead, contact=contact),
        lambda user: services.change_stakeholder_role(
            connection=connection, user=user, role="decision_maker"
        ),
        lambda user: services.remove_stakeholder(connection=connection, user=user),
    ]
    for write in writes:
        for user in (rep, manager):
            with pytest.raises(RecordReadOnly, match="read-only"):
                write(user)

    note.refresh_from_db()
    activity.refresh_from_db()
    connection.refresh_from_db()
    assert note.text == "kept"
    assert (activity.status, activity.subject) == (Activity.Status.OPEN, activity.subject)
    assert connection.role == Connection.Role.STAKEHOLDER
    assert Note.objects.count() == 1 and Activity.objects.count() == 1
    assert Connection.objects.count() == 1


def test_closed_opportunity_timeline_is_read_only_until_reopened(rep):
    opportunity = OpportunityFactory(owner=rep)
    opportunity_services.close_opportunity(opportunity=opportunity, user=rep, won=False)
    opportunity.refresh_from_db()

    with pytest.raises(RecordReadOnly, match="reopen it"):
        services.create_note(user=rep, regarding=opportunity, text="x")

    opportunity_services.reopen_opportunity(opportunity=opportunity, user=rep)
    opportunity.refresh_from_db()
    services.create_note(user=rep, regarding=opportunity, text="x")


def test_inactive_contact_timeline_is_read_only(rep):
    contact = ContactFactory(owner=rep, is_active=False)
    with pytest.raises(RecordReadOnly, match="inactive"):
        services.create_activity(user=rep, regarding=contact, type="task", subject="x")


def test_read_only_check_uses_the_current_state_not_a_stale_object(rep, lead):
    stale = LeadFactory._meta.model.objects.get(pk=lead.pk)
    lead_services.disqualify_lead(lead=lead, user=rep, reason="lost")

    with pytest.raises(RecordReadOnly):
        services.create_note(user=rep, regarding=stale, text="too late")


# --- Activities ----------------------------------------------------------------------------


def test_phone_call_keeps_only_its_own_fields(rep, lead):
    call = services.create_activity(
        user=rep,
        regarding=lead,
        type="phone_call",
        subject="Intro call",
        phone_number=" +1 206 555 0100 ",
        direction="incoming",
        due_at=timezone.now(),
    )

    call.refresh_from_db()
    assert (call.type, call.status, call.owner) == ("phone_call", "open", rep)
    assert (call.direction, call.phone_number) == ("incoming", "+1 206 555 0100")
    assert (call.priority, call.location, call.starts_at) == ("", "", None)


def test_fields_of_another_type_are_refused(rep, lead):
    with pytest.raises(TypeError, match="location"):
        services.create_activity(
            user=rep, regarding=lead, type="phone_call", subject="x", location="HQ"
        )


def test_email_addresses_are_validated(rep, lead):
    with pytest.raises(ValidationError) as info:
        services.create_activity(
            user=rep,
            regarding=lead,
            type="email",
            subject="Proposal",
            email_from="me@example.com",
            email_to="anne@example.com, not-an-address",
        )
    assert "not-an-address" in str(info.value.message_dict["email_to"])
    assert not Activity.objects.exists()


def test_appointment_needs_start_and_end_in_order(rep, lead):
    start = timezone.now() + timedelta(days=1)
    with pytest.raises(ValidationError) as info:
        services.create_activity(user=rep, regarding=lead, type="appointment", subject="Demo")
    assert set(info.value.message_dict) >= {"starts_at", "ends_at"}
    with pytest.raises(ValidationError, match="cannot end before"):
        services.create_activity(
            user=rep,
            regarding=lead,
            type="appointment",
            subject="Demo",
            starts_at=start,
            ends_at=start - timedelta(hours=1),
        )

    demo = services.create_activity(
        user=rep,
        regarding=lead,
        type="appointment",
        subject="Demo",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        location="Their office",
    )
    assert demo.due_at == start  # an appointment is due when it starts
    assert Activity.objects.count() == 1


def test_task_priority_defaults_to_normal(rep, lead):
    task = services.create_activity(user=rep, regarding=lead, type="task", subject="Send deck")
    assert task.priority == Activity.Priority.NORMAL


def test_unknown_type_is_refused(rep, lead):
    with pytest.raises(ValidationError, match="not an activity type"):
        services.create_activity(user=rep, regarding=lead, type="fax", subject="x")


def test_only_a_manager_assigns_an_activity_to_someone_else(rep, rep2, manager, lead):
    with pytest.raises(PermissionDenied, match="manager"):
        services.create_activity(user=rep, regarding=lead, type="task", subject="x", owner=rep2)
    task = services.create_activity(
        user=manager, regarding=lead, type="task", subject="x", owner=rep2
    )
    assert task.owner == rep2


def test_complete_and_cancel_close_an_open_activity_once(rep, lead):
    call = ActivityFactory(lead=lead)
    task = ActivityFactory(lead=lead, type="task")

    services.complete_activity(activity=call, user=rep)
    services.cancel_activity(activity=task, user=rep)

    call.refresh_from_db()
    task.refresh_from_db()
    assert call.status == "completed" and call.completed_at is not None
    assert task.status == "canceled"
    with pytest.raises(ActivityNotOpen):
        services.complete_activity(activity=call, user=rep)
    with pytest.raises(ActivityNotOpen):
        services.update_activity(activity=task, user=rep, subject="changed")


def test_activity_changes_by_owner_record_owner_or_manager(rep, rep2, manager, lead):
    # rep2 logged a call on rep's lead (assigned by a manager): both may close it.
    call = ActivityFactory(lead=lead, owner=rep2)
    other = ActivityFactory(lead=lead, owner=rep2)
    outsider = ActivityFactory(lead=lead, owner=rep2)
    stranger = LeadFactory().owner

    services.complete_activity(activity=call, user=rep2)
    services.update_activity(activity=other, user=rep, subject="By the lead's owner")
    with pytest.raises(PermissionDenied):
        services.complete_activity(activity=outsider, user=stranger)
    services.delete_activity(activity=outsider, user=manager)

    assert Activity.objects.get(pk=other.pk).subject == "By the lead's owner"
    assert not Activity.objects.filter(pk=outsider.pk).exists()


# --- Stakeholders --------------------------------------------------------------------------


def test_add_change_and_remove_a_stakeholder(rep, lead):
    contact = ContactFactory()

    connection = services.add_stakeholder(user=rep, record=lead, contact=contact)
    assert connection.role == Connection.Role.STAKEHOLDER
    services.change_stakeholder_role(connection=connection, user=rep, role="decision_maker")
    assert Connection.objects.get().get_role_display() == "Decision Maker"
    services.remove_stakeholder(connection=connection, user=rep)

    assert not Connection.objects.exists()
    assert Contact.objects.filter(pk=contact.pk).exists()  # the contact itself stays


def test_a_contact_is_a_stakeholder_once(rep, lead):
    contact = ContactFactory()
    services.add_stakeholder(user=rep, record=lead, contact=contact)
    with pytest.raises(ValidationError, match="already a stakeholder"):
        services.add_stakeholder(user=rep, record=lead, contact=contact, role="influencer")
    assert Connection.objects.count() == 1


def test_stakeholder_refusals(rep, rep2, lead):
    with pytest.raises(ValidationError, match="inactive"):
        services.add_stakeholder(user=rep, record=lead, contact=ContactFactory(is_active=False))
    with pytest.raises(ValidationError, match="not a stakeholder role"):
        services.add_stakeholder(user=rep, record=lead, contact=ContactFactory(), role="boss")
    with pytest.raises(PermissionDenied):
        services.add_stakeholder(user=rep2, record=lead, contact=ContactFactory())
    with pytest.raises(TypeError):
        services.add_stakeholder(
            user=rep, record=AccountFactory(owner=rep), contact=ContactFactory()
        )
    assert not Connection.objects.exists()


def test_new_contact_as_stakeholder_warns_of_duplicates(rep, lead):
    ContactFactory(first_name="Anne", last_name="Dodsworth", email="anne@contoso.example")

    with pytest.raises(DuplicateContacts) as info:
        services.add_new_contact_as_stakeholder(
            user=rep, record=lead, first_name="Anne", last_name="Dodsworth", role="influencer"
        )
    assert [c.email for c in info.value.contacts] == ["anne@contoso.example"]
    assert Contact.objects.count() == 1

    connection = services.add_new_contact_as_stakeholder(
        user=rep,
        record=lead,
        first_name="Anne",
        last_name="Dodsworth",
        role="influencer",
        ignore_duplicates=True,
    )
    assert Contact.objects.count() == 2
    assert connection.contact.owner == rep and connection.role == "influencer"


def test_new_contact_invalid_data_saves_nothing(rep, lead):
    with pytest.raises(ValidationError):
        services.add_new_contact_as_stakeholder(
            user=rep, record=lead, first_name="Anne", last_name="", email="bad"
        )
    assert not Contact.objects.filter(first_name="Anne").exists()
    assert not Connection.objects.exists()


def test_qualify_carries_stakeholders_to_the_opportunity(rep, lead):
    buyer = ContactFactory()
    user_contact = ContactFactory()
    services.add_stakeholder(user=rep, record=lead, contact=buyer, role="economic_buyer")
    services.add_stakeholder(user=rep, record=lead, contact=user_contact)

    result = lead_services.qualify_lead(lead=lead, user=rep, ignore_duplicates=True)

    carried = Connection.objects.filter(opportunity=result.opportunity).order_by("contact_id")
    assert [(c.contact, c.role) for c in carried] == sorted(
        [(buyer, "economic_buyer"), (user_contact, "stakeholder")], key=lambda t: t[0].pk
    )
    assert Connection.objects.filter(lead=lead).count() == 2  # the lead keeps its own


def test_qualify_without_opportunity_carries_nothing(rep, lead, manual_qualify):
    ConnectionFactory(lead=lead)
    lead_services.qualify_lead(
        lead=lead,
        user=rep,
        create_account=True,
        create_contact=True,
        create_opportunity=False,
        ignore_duplicates=True,
    )
    assert not Connection.objects.filter(opportunity__isnull=False).exists()


# --- Deleting records ----------------------------------------------------------------------


def _fill(record, rep):
    services.create_note(user=rep, regarding=record, text="n", attachment=upload())
    ActivityFactory(**services.regarding_filter(record))


def test_delete_lead_removes_notes_activities_connections_and_files_after_commit(
    rep, lead, media, django_capture_on_commit_callbacks
):
    _fill(lead, rep)
    ConnectionFactory(lead=lead)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lead_services.delete_lead(lead=lead, user=rep)
    assert len(stored_files(media)) == 1  # still there until the commit
    for callback in callbacks:
        callback()

    assert (Note.objects.count(), Activity.objects.count(), Connection.objects.count()) == (0, 0, 0)
    assert stored_files(media) == []


def test_a_delete_that_fails_keeps_records_and_files(rep, lead, media):
    _fill(lead, rep)

    with (
        mock.patch("crm.storage.Collector.delete", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        lead_services.delete_lead(lead=lead, user=rep)

    assert Note.objects.count() == 1 and Activity.objects.count() == 1
    assert len(stored_files(media)) == 1


def test_delete_account_contact_and_opportunity_cascade(
    manager, media, django_capture_on_commit_callbacks
):
    account = AccountFactory(owner=manager)
    contact = ContactFactory(owner=manager, account=account)
    opportunity = OpportunityFactory(owner=manager, account=AccountFactory(owner=manager))
    for record in (account, contact, opportunity):
        _fill(record, manager)
    ConnectionFactory(opportunity=opportunity, contact=contact)

    with django_capture_on_commit_callbacks(execute=True):
        opportunity_services.delete_opportunity(opportunity=opportunity, user=manager)
        account_services.delete_contact(contact=contact, user=manager)
        account_services.delete_account(account=account, user=manager)

    assert (Note.objects.count(), Activity.objects.count(), Connection.objects.count()) == (0, 0, 0)
    assert stored_files(media) == []


def test_customer_of_an_opportunity_cannot_be_deleted(manager):
    opportunity = OpportunityFactory(owner=manager, account=AccountFactory(owner=manager))
    person = ContactFactory(owner=manager)
    OpportunityFactory(owner=manager, account=None, contact=person)

    with pytest.raises(ValidationError, match="(account|contact) of 1 opportunity"):
        account_services.delete_account(account=opportunity.account, user=manager)
    with pytest.raises(ValidationError, match="(account|contact) of 1 opportunity"):
        account_services.delete_contact(contact=person, user=manager)
    assert Opportunity.objects.count() == 2


def test_reps_cannot_delete_accounts_contacts_or_opportunities(rep):
    opportunity = OpportunityFactory(owner=rep, account=AccountFactory(owner=rep))
    with pytest.raises(PermissionDenied):
        opportunity_services.delete_opportunity(opportunity=opportunity, user=rep)
    with pytest.raises(PermissionDenied):
        account_services.delete_contact(contact=ContactFactory(owner=rep), user=rep)
    assert Opportunity.objects.count() == 1


# --- Timeline and My Activities reads ------------------------------------------------------


def test_timeline_merges_notes_and_activities_newest_first_in_pages(rep, lead):
    now = timezone.now()
    items = []
    for i in range(25):
        factory = NoteFactory if i % 2 else ActivityFactory
        item = factory(lead=lead)
        type(item).objects.filter(pk=item.pk).update(created_at=now - timedelta(minutes=i))
        items.append((type(item).__name__, item.pk))
    NoteFactory()  # another lead's note is not on this timeline

    first = selectors.timeline(lead, page=1, per_page=10)
    third = selectors.timeline(lead, page=3, per_page=10)

    assert [(type(i).__name__, i.pk) for i in first.items] == items[:10]
    assert first.has_next and not first.has_previous
    assert [(type(i).__name__, i.pk) for i in third.items] == items[20:]
    assert not third.has_next and third.has_previous
    assert selectors.timeline(lead, page="junk").number == 1


def test_due_ranges(rep, lead):
    now = timezone.localtime()
    overdue = ActivityFactory(lead=lead, due_at=now - timedelta(days=2))
    today = ActivityFactory(lead=lead, due_at=now.replace(hour=23, minute=59))
    later = ActivityFactory(lead=lead, due_at=now + timedelta(days=30))
    closed_overdue = ActivityFactory(lead=lead, due_at=now - timedelta(days=2), status="completed")

    def due(value):
        return set(Activity.objects.filter(selectors.due_range(value, now=now)))

    assert due("overdue") == {overdue}
    assert today in due("today") and later not in due("today")
    assert today in due("week") and later not in due("week")
    assert closed_overdue not in due("overdue")


def test_storage_is_the_default_storage(rep, lead):
    note = services.create_note(user=rep, regarding=lead, text="x", attachment=upload())
    assert default_storage.exists(note.attachment.name)
