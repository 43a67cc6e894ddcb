"""Fault injection: a failure at any step of qualify or delete leaves nothing half-done.

Each test makes one step fail (after it has done its own write, the harder
case for a rollback) and checks that the database, and for deletes the stored
attachment files, are exactly as before. Runs on SQLite and PostgreSQL.
"""

from contextlib import contextmanager
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError
from django.db.models.deletion import Collector
from django.db.models.signals import post_delete

import accounts.services
import leads.services
import opportunities.services
from accounts.models import Account, Contact
from activities import services as activity_services
from activities.models import Activity, Connection, Note
from leads.models import Lead
from opportunities.models import Opportunity
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ConnectionFactory,
    ContactFactory,
    LeadFactory,
    ManagerFactory,
    OpportunityFactory,
)
from tests.reference_data import restore_reference_data

pytestmark = pytest.mark.django_db

CORE_MODELS = (Lead, Account, Contact, Opportunity, Note, Activity, Connection)


def database_state() -> dict[str, list[dict]]:
    """Every row of every CRM table (and of their change history, where kept)."""
    models = list(CORE_MODELS)
    models += [m.history.model for m in CORE_MODELS if hasattr(m, "history")]
    return {m._meta.label: list(m._default_manager.order_by("pk").values()) for m in models}


class Injected:
    """Patches a step so that it does its work and then fails; records that it ran."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch
        self.calls = 0

    def after(self, target, name: str, exc: Exception, when=lambda *a, **kw: True):
        original = getattr(target, name)

        def failing(*args, **kwargs):
            result = original(*args, **kwargs)
            if when(*args, **kwargs):
                self.calls += 1
                raise exc
            return result

        self.monkeypatch.setattr(target, name, failing)
        return self


@pytest.fixture
def inject(monkeypatch):
    return Injected(monkeypatch)


# --- qualify ----------------------------------------------------------------------------------


def _refuse_lead_update(original):
    """The final lead save, made to break a check constraint: the database itself refuses."""

    def save(self, *args, **kwargs):
        self.status_reason = Lead.StatusReason.LOST  # not a qualified lead's reason
        return original(self, *args, **kwargs)

    return save


QUALIFY_STEPS = {
    "account save": (Account, "save"),
    "contact save": (Contact, "save"),
    "opportunity save": (Opportunity, "save"),
    "carry stakeholders": (leads.services, "carry_stakeholders"),
    "final lead save": (Lead, "save"),
}


@pytest.fixture
def open_lead(rep):
    lead = LeadFactory(
        owner=rep,
        topic="Atomic widgets",
        first_name="Ada",
        last_name="Quill",
        email="ada@atomic.example",
        company_name="Atomic Widgets Ltd",
    )
    # A stakeholder, so qualifying also copies a connection to the opportunity.
    ConnectionFactory(
        lead=lead, contact=ContactFactory(owner=rep, first_name="Sam", last_name="Stake")
    )
    ActivityFactory(lead=lead)
    return lead


def _assert_untouched(lead: Lead, before: dict) -> None:
    assert database_state() == before
    lead_row = Lead.objects.get(pk=lead.pk)
    assert (lead_row.state, lead_row.status_reason) == (Lead.State.OPEN, Lead.StatusReason.NEW)
    assert lead_row.qualified_account_id is None
    assert lead_row.qualified_contact_id is None
    assert lead_row.qualified_opportunity_id is None
    assert lead_row.qualified_at is None
    # The caller's instance is not made to look qualified either.
    assert lead.state == Lead.State.OPEN and lead.qualified_opportunity_id is None


@pytest.mark.parametrize("exc_type", [DatabaseError, RuntimeError])
@pytest.mark.parametrize("step", QUALIFY_STEPS)
def test_qualify_failing_at_any_step_adds_and_changes_nothing(
    open_lead, rep, inject, step, exc_type
):
    target, name = QUALIFY_STEPS[step]
    inject.after(target, name, exc_type(f"injected failure after {step}"))
    before = database_state()

    with pytest.raises(exc_type, match="injected failure"):
        leads.services.qualify_lead(lead=open_lead, user=rep)

    assert inject.calls == 1, f"the {step} step was not reached"
    _assert_untouched(open_lead, before)


def test_qualify_refused_by_the_database_at_the_final_save_changes_nothing(
    open_lead, rep, monkeypatch
):
    monkeypatch.setattr(Lead, "save", _refuse_lead_update(Lead.save))
    before = database_state()

    with pytest.raises(IntegrityError):
        leads.services.qualify_lead(lead=open_lead, user=rep)

    _assert_untouched(open_lead, before)


def _bulk_leads(rep, count: int = 3) -> list[Lead]:
    return [
        LeadFactory(
            owner=rep,
            first_name=f"Bulk{i}",
            last_name="Lead",
            email=f"bulk{i}@atomic.example",
            company_name=f"Bulk {i} Ltd",
        )
        for i in range(count)
    ]


def test_bulk_qualify_rolls_back_only_the_lead_that_failed(rep, inject):
    first, middle, last = _bulk_leads(rep)
    inject.after(
        Opportunity,
        "save",
        DatabaseError("injected failure"),
        when=lambda opportunity, *a, **kw: opportunity.originating_lead_id == middle.pk,
    )

    results = leads.services.qualify_leads(leads=[first, middle, last], user=rep)

    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, DatabaseError)
    states = dict(Lead.objects.values_list("pk", "state"))
    assert states == {
        first.pk: Lead.State.QUALIFIED,
        middle.pk: Lead.State.OPEN,
        last.pk: Lead.State.QUALIFIED,
    }
    assert not Account.objects.filter(name=middle.company_name).exists()
    assert not Contact.objects.filter(email=middle.email).exists()
    assert not Opportunity.objects.filter(originating_lead=middle).exists()
    assert Opportunity.objects.count() == 2


def test_bulk_qualify_recovers_from_a_database_refusal_in_the_middle(rep, monkeypatch):
    # The database itself refuses the middle lead's update (a check constraint):
    # on PostgreSQL that aborts the statement, and only that lead's savepoint
    # may be lost, not the batch the others share.
    first, middle, last = _bulk_leads(rep)
    refusing = _refuse_lead_update(Lead.save)
    original = Lead.save
    monkeypatch.setattr(
        Lead,
        "save",
        lambda self, *a, **kw: (refusing if self.pk == middle.pk else original)(self, *a, **kw),
    )

    results = leads.services.qualify_leads(leads=[first, middle, last], user=rep)

    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, IntegrityError)
    assert Lead.objects.get(pk=middle.pk).state == Lead.State.OPEN
    assert not Opportunity.objects.filter(originating_lead=middle).exists()
    assert Opportunity.objects.count() == 2


def test_bulk_qualify_stops_at_an_unexpected_error_undoing_only_its_batch(rep, inject, monkeypatch):
    # qualify_leads reports refusals and database errors per lead; any other
    # exception is a bug and ends the run. Leads are committed in batches, so
    # the batches before it stay qualified and the failing lead's whole batch
    # is rolled back.
    monkeypatch.setattr(leads.services, "BULK_QUALIFY_BATCH", 2)
    one, two, three, four = _bulk_leads(rep, count=4)
    inject.after(
        Opportunity,
        "save",
        RuntimeError("injected failure"),
        when=lambda opportunity, *a, **kw: opportunity.originating_lead_id == three.pk,
    )

    with pytest.raises(RuntimeError):
        leads.services.qualify_leads(leads=[one, two, three, four], user=rep)

    states = dict(Lead.objects.values_list("pk", "state"))
    assert states == {
        one.pk: Lead.State.QUALIFIED,
        two.pk: Lead.State.QUALIFIED,
        three.pk: Lead.State.OPEN,
        four.pk: Lead.State.OPEN,
    }
    assert set(Opportunity.objects.values_list("originating_lead", flat=True)) == {one.pk, two.pk}
    assert not Account.objects.filter(name__in=[three.company_name, four.company_name]).exists()


# --- delete with attachments ------------------------------------------------------------------


def _build(kind: str, owner):
    if kind == "lead":
        record = LeadFactory(owner=owner)
        ConnectionFactory(lead=record, contact=ContactFactory(owner=owner))
    elif kind == "account":
        record = AccountFactory(owner=owner)
        ContactFactory(owner=owner, account=record)  # stays, without an account
    elif kind == "contact":
        record = ContactFactory(owner=owner)
    else:
        record = OpportunityFactory(owner=owner, account=AccountFactory(owner=owner))
        ConnectionFactory(opportunity=record, contact=ContactFactory(owner=owner))
    for name in ("offer.pdf", "contract.pdf"):
        activity_services.create_note(
            user=owner,
            regarding=record,
            text=f"About {name}",
            attachment=SimpleUploadedFile(name, b"%PDF-1.4 " + name.encode()),
        )
    ActivityFactory(**activity_services.regarding_filter(record))
    return record


DELETES = {
    "lead": (leads.services, lambda r, u: leads.services.delete_lead(lead=r, user=u)),
    "account": (
        accounts.services,
        lambda r, u: accounts.services.delete_account(account=r, user=u),
    ),
    "contact": (
        accounts.services,
        lambda r, u: accounts.services.delete_contact(contact=r, user=u),
    ),
    "opportunity": (
        opportunities.services,
        lambda r, u: opportunities.services.delete_opportunity(opportunity=r, user=u),
    ),
}


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media: Path) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in Path(media).rglob("*") if p.is_file())


@contextmanager
def failing_after_post_delete(sender, exc: Exception):
    """Fail right after the first `sender` row was deleted (mid-cascade)."""
    calls = []

    def receiver(sender, instance, **kwargs):
        calls.append(instance.pk)
        raise exc

    post_delete.connect(receiver, sender=sender, weak=False, dispatch_uid="atomicity-test")
    try:
        yield calls
    finally:
        post_delete.disconnect(sender=sender, dispatch_uid="atomicity-test")


@pytest.mark.parametrize("point", ["deleting the notes", "record delete", "after scheduling"])
@pytest.mark.parametrize("kind", DELETES)
def test_delete_failing_before_commit_keeps_rows_and_files(
    manager, media, inject, django_capture_on_commit_callbacks, kind, point
):
    record = _build(kind, manager)
    module, delete = DELETES[kind]
    before = database_state()
    files = stored_files(media)
    assert len(files) == 2

    exc = DatabaseError(f"injected failure at {point}")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        if point == "deleting the notes":
            with failing_after_post_delete(Note, exc) as calls, pytest.raises(DatabaseError):
                delete(record, manager)
            assert calls, "the notes were not deleted before the injected failure"
        else:
            if point == "record delete":
                inject.after(Collector, "delete", exc)
            else:  # the delete and its file removal are scheduled; the commit never comes
                inject.after(module, "delete_with_files", exc)
            with pytest.raises(DatabaseError):
                delete(record, manager)
            assert inject.calls == 1

    assert callbacks == []  # a rolled-back delete never removes files
    assert database_state() == before
    assert stored_files(media) == files


def _run(action) -> Exception | None:
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - the outcome is what we assert on
        return exc
    return None


@pytest.fixture
def committed_manager(transactional_db):
    restore_reference_data()
    return ManagerFactory()


@pytest.fixture
def failing_storage_delete(monkeypatch):
    """The first file removal fails, as when the storage is briefly unavailable."""
    original = FileSystemStorage.delete
    calls = []

    def delete(self, name):
        calls.append(name)
        if len(calls) == 1:
            raise OSError(f"injected storage failure deleting {name}")
        return original(self, name)

    monkeypatch.setattr(FileSystemStorage, "delete", delete)
    return calls


def _assert_deleted_and_orphans_pruned(record, media, outcome, removal_calls) -> None:
    # The delete committed before the file removal ran: the rows are gone either way.
    assert not type(record).objects.filter(pk=record.pk).exists()
    assert (Note.objects.count(), Activity.objects.count()) == (0, 0)
    assert removal_calls, "the file removal did not run after the commit"
    # The storage error is logged, not raised to the user, and the other file
    # is still removed; the one that failed is left for prune_attachments.
    assert outcome is None
    assert len(removal_calls) == 2, "the removal stopped at the first failure"
    assert len(stored_files(media)) == 1, "expected the failed removal to leave its file"

    call_command("prune_attachments", "--min-age-hours=0", stdout=StringIO())
    assert stored_files(media) == []


@pytest.mark.parametrize("kind", DELETES)
def test_storage_failure_after_commit_keeps_the_delete_and_prune_removes_the_orphans(
    manager, media, failing_storage_delete, django_capture_on_commit_callbacks, kind
):
    record = _build(kind, manager)
    _module, delete = DELETES[kind]
    assert len(stored_files(media)) == 2

    def delete_and_commit():
        # Runs the on_commit callbacks as a real commit would, robust flag included.
        with django_capture_on_commit_callbacks(execute=True):
            delete(record, manager)

    outcome = _run(delete_and_commit)

    _assert_deleted_and_orphans_pruned(record, media, outcome, failing_storage_delete)


@pytest.mark.django_db(transaction=True)
def test_storage_failure_after_a_real_commit_keeps_the_delete_and_prune_removes_the_orphans(
    committed_manager, media, failing_storage_delete
):
    record = _build("lead", committed_manager)

    outcome = _run(lambda: leads.services.delete_lead(lead=record, user=committed_manager))

    _assert_deleted_and_orphans_pruned(record, media, outcome, failing_storage_delete)


@pytest.mark.django_db(transaction=True)
def test_storage_failure_after_commit_does_not_reach_the_user(
    committed_manager, media, failing_storage_delete
):
    record = _build("lead", committed_manager)
    leads.services.delete_lead(lead=record, user=committed_manager)
    assert not Lead.objects.filter(pk=record.pk).exists()
