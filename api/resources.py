"""Accounts, contacts, notes (with their attachments), activities and
stakeholders: each a list that creates and a detail that reads, changes and
deletes (api.records), its writes the services' (accounts.services,
activities.services)."""

from __future__ import annotations

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView

from accounts import services as account_services
from accounts.filters import AccountFilter, ContactFilter
from accounts.models import Account, Contact
from activities import services as timeline
from activities.files import attachment_response
from activities.filters import ActivityFilter
from activities.models import Activity, Connection, Note

from .records import RecordDetail, RecordList, action, documented
from .serializers import (
    MAX_ID,
    AccountSerializer,
    ActivitySerializer,
    ContactSerializer,
    NoteSerializer,
    StakeholderSerializer,
)


class IdFilter(django_filters.Filter):
    field_class = forms.IntegerField


def by_id(name: str) -> IdFilter:
    """A filter by the id of a record a row refers to (no lookup of that record)."""
    return IdFilter(field_name=f"{name}_id", min_value=1, max_value=MAX_ID)


# --- Accounts and contacts -----------------------------------------------------------------

list_accounts, detail_account = documented("accounts", what="accounts")


@list_accounts
class AccountList(RecordList):
    """Accounts, filtered and searched as the account list (`q`: name, email or phone)."""

    queryset = Account.objects.all()
    serializer_class = AccountSerializer
    filterset_class = AccountFilter
    sorts = {"id": "pk", "created": "created_at", "name": "name"}
    creates = staticmethod(account_services.create_account)


@detail_account
class AccountDetail(RecordDetail):
    queryset = Account.objects.all()
    serializer_class = AccountSerializer
    record_name = "account"
    updates = staticmethod(account_services.update_account)
    deletes = staticmethod(account_services.delete_account)


class ContactApiFilter(ContactFilter):
    account = by_id("account")

    class Meta(ContactFilter.Meta):
        fields = [*ContactFilter.Meta.fields, "account"]


list_contacts, detail_contact = documented("contacts", what="contacts")


@list_contacts
class ContactList(RecordList):
    """Contacts, filtered and searched as the contact list (`q`: name, email or account)."""

    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    filterset_class = ContactApiFilter
    sorts = {"id": "pk", "created": "created_at", "last_name": "last_name"}
    creates = staticmethod(account_services.create_contact)


@detail_contact
class ContactDetail(RecordDetail):
    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    record_name = "contact"
    updates = staticmethod(account_services.update_contact)
    deletes = staticmethod(account_services.delete_contact)


# --- Notes ---------------------------------------------------------------------------------


class NoteFilter(django_filters.FilterSet):
    lead, account, contact = by_id("lead"), by_id("account"), by_id("contact")
    opportunity, author = by_id("opportunity"), by_id("author")

    class Meta:
        model = Note
        fields = ["lead", "account", "contact", "opportunity", "author"]


list_notes, detail_note = documented("notes", what="notes")


@list_notes
class NoteList(RecordList):
    """Notes, newest first; filter by the record they regard. Create one with
    JSON, or with multipart/form-data to attach a file."""

    queryset = Note.objects.all()
    serializer_class = NoteSerializer
    filterset_class = NoteFilter

    def make(self, data):
        data.pop("remove_attachment", None)
        return timeline.create_note(user=self.request.user, **data)


@detail_note
class NoteDetail(RecordDetail):
    queryset = Note.objects.all()
    serializer_class = NoteSerializer
    record_name = "note"
    updates = staticmethod(timeline.update_note)
    deletes = staticmethod(timeline.delete_note)


class NoteAttachment(GenericAPIView):
    queryset = Note.objects.all()
    serializer_class = NoteSerializer

    @extend_schema(
        operation_id="notes_attachment",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request, *args, **kwargs):
        """Download a note's attached file (404 when it has none)."""
        return attachment_response(request.user, self.get_object())


# --- Activities ----------------------------------------------------------------------------


class ActivityApiFilter(ActivityFilter):
    """My Activities' filters (`status` is `open` unless given; `all` for any),
    plus the owner, `mine` and the record an activity regards."""

    lead, account, contact = by_id("lead"), by_id("account"), by_id("contact")
    opportunity, owner = by_id("opportunity"), by_id("owner")
    mine = django_filters.BooleanFilter(method="only_mine")

    class Meta(ActivityFilter.Meta):
        fields = [
            *ActivityFilter.Meta.fields,
            "owner",
            "mine",
            "lead",
            "account",
            "contact",
            "opportunity",
        ]

    def only_mine(self, queryset, name, value):
        return queryset.filter(owner_id=self.request.user.pk) if value else queryset


list_activities, detail_activity = documented("activities", what="activities")


@list_activities
class ActivityList(RecordList):
    """Phone calls, emails, tasks and appointments: open ones unless `status` says
    otherwise. A new one regards exactly one lead, account, contact or opportunity."""

    queryset = Activity.objects.all()
    serializer_class = ActivitySerializer
    filterset_class = ActivityApiFilter
    creates = staticmethod(timeline.create_activity)


@detail_activity
class ActivityDetail(RecordDetail):
    queryset = Activity.objects.all()
    serializer_class = ActivitySerializer
    record_name = "activity"
    updates = staticmethod(timeline.update_activity)
    deletes = staticmethod(timeline.delete_activity)


def _activity_action(service, operation_id: str, summary: str):
    return action(Activity, ActivitySerializer, "activity", service, operation_id, summary)


ActivityComplete = _activity_action(
    timeline.complete_activity, "activities_complete", "Mark an open activity Completed."
)
ActivityCancel = _activity_action(
    timeline.cancel_activity, "activities_cancel", "Mark an open activity Canceled."
)


# --- Stakeholders --------------------------------------------------------------------------


class StakeholderFilter(django_filters.FilterSet):
    lead, opportunity, contact = by_id("lead"), by_id("opportunity"), by_id("contact")

    class Meta:
        model = Connection
        fields = ["lead", "opportunity", "contact"]


list_stakeholders, detail_stakeholder = documented(
    "stakeholders", what="stakeholders", versioned=False
)


@list_stakeholders
class StakeholderList(RecordList):
    """Contacts connected to leads and opportunities, each with a role."""

    queryset = Connection.objects.all()
    serializer_class = StakeholderSerializer
    filterset_class = StakeholderFilter

    def make(self, data):
        record = data.pop("regarding")
        return timeline.add_stakeholder(user=self.request.user, record=record, **data)


@detail_stakeholder
class StakeholderDetail(RecordDetail):
    queryset = Connection.objects.all()
    serializer_class = StakeholderSerializer

    def change(self, record, data, expected_modified_at):
        role = data.get("role", record.role)
        return timeline.change_stakeholder_role(
            connection=record, user=self.request.user, role=role
        )

    record_name = "connection"
    deletes = staticmethod(timeline.remove_stakeholder)
