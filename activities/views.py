"""Timeline, My Activities and stakeholder views. Each parses a form, calls one
service from activities.services and turns its refusal into a message, a form
error or a 403; the rules themselves live in the services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from crm.forms import add_service_errors
from crm.http import safe_next
from crm.permissions import (
    can_add_to,
    can_change_activity,
    can_change_note,
    ensure_can_change,
)
from crm.records import read_only_message

from . import selectors, services
from .exceptions import DuplicateContacts, TimelineError
from .files import attachment_response
from .filters import ActivityFilter
from .forms import ActivityForm, NewStakeholderForm, NoteForm, RoleForm, StakeholderForm
from .models import REGARDING_FIELDS, Activity, Connection, Note

# The kinds of record a timeline belongs to, from the models' own foreign keys
# (so this app needs no import of the apps above it).
REGARDING_MODELS: dict[str, type[Model]] = {
    kind: Note._meta.get_field(kind).related_model for kind in REGARDING_FIELDS
}


def get_regarding(kind: str, pk: int) -> Model:
    model = REGARDING_MODELS.get(kind)
    if model is None:
        raise Http404("No such record type.")
    return get_object_or_404(model.objects.select_related("owner"), pk=pk)


def get_regarding_for_change(request: HttpRequest, kind: str, pk: int) -> Model:
    """The record a timeline write regards, if the user may change it (403
    otherwise). Whether it is still writable (active) the services decide."""
    record = get_regarding(kind, pk)
    ensure_can_change(request.user, record)
    return record


def _back(request: HttpRequest, record: Model, anchor: str = "timeline") -> HttpResponse:
    return redirect(safe_next(request, f"{record.get_absolute_url()}#{anchor}"))


def _refused(request: HttpRequest, record: Model, exc: TimelineError, anchor="timeline"):
    messages.error(request, f"{exc.message} Nothing was changed.")
    return _back(request, record, anchor)


# --- Notes ---------------------------------------------------------------------------------


@require_POST
def note_add(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    record = get_regarding_for_change(request, kind, pk)
    form = NoteForm(request.POST, request.FILES, auto_id="note_%s")
    if form.is_valid():
        try:
            services.create_note(user=request.user, regarding=record, **form.service_fields())
        except TimelineError as exc:
            return _refused(request, record, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Note added.")
            return _back(request, record)
    return render(
        request, "activities/note_form.html", {"form": form, "record": record, "note": None}
    )


def _note(pk: int) -> Note:
    return get_object_or_404(Note.objects.select_related("author"), pk=pk)


def note_edit(request: HttpRequest, pk: int) -> HttpResponse:
    note = _note(pk)
    record = note.regarding
    if not can_change_note(request.user, note, record):
        if not record.is_active:
            messages.error(request, read_only_message(record))
            return _back(request, record)
        raise PermissionDenied("Only the note's author or a sales manager can change this note.")
    form = NoteForm(request.POST or None, request.FILES or None, note=note, auto_id="note_%s")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_note(
                note=note,
                user=request.user,
                text=data["text"],
                title=data["title"],
                attachment=data.get("attachment") or None,
                remove_attachment=bool(data.get("remove_attachment")),
            )
        except TimelineError as exc:
            return _refused(request, record, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Note saved.")
            return _back(request, record)
    return render(
        request, "activities/note_form.html", {"form": form, "record": record, "note": note}
    )


@require_POST
def note_delete(request: HttpRequest, pk: int) -> HttpResponse:
    note = _note(pk)
    record = note.regarding
    try:
        services.delete_note(note=note, user=request.user)
    except TimelineError as exc:
        return _refused(request, record, exc)
    messages.success(request, "Note deleted.")
    return _back(request, record)


@require_GET
def note_attachment(request: HttpRequest, pk: int) -> FileResponse:
    """Download a note's attachment, only for users who may see its record.

    Always sent as a download (never rendered inline) with the stored, sanitised name.
    """
    return attachment_response(request.user, _note(pk))


# --- Activities ----------------------------------------------------------------------------


def _activity_type(value: str) -> str:
    if value not in Activity.Type.values:
        raise Http404("No such activity type.")
    return value


def activity_add(request: HttpRequest, kind: str, pk: int, type: str) -> HttpResponse:
    record = get_regarding_for_change(request, kind, pk)
    type = _activity_type(type)
    form = ActivityForm(request.POST or None, type=type, user=request.user, auto_id=f"{type}_%s")
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.create_activity(
                user=request.user, regarding=record, type=type, **form.service_fields()
            )
        except TimelineError as exc:
            return _refused(request, record, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{activity.get_type_display()} “{activity.subject}” added.")
            return _back(request, record)
    elif request.method == "GET" and not can_add_to(request.user, record):
        if not record.is_active:
            messages.error(request, read_only_message(record))
            return _back(request, record)
        raise PermissionDenied("Only the owner or a sales manager can add to this timeline.")
    return render(
        request,
        "activities/activity_form.html",
        {"form": form, "record": record, "type_label": Activity.Type(type).label, "activity": None},
    )


@require_GET
def activity_add_form(request: HttpRequest, kind: str, pk: int, type: str) -> HttpResponse:
    """The timeline's inline form for one activity type, an HTML fragment that htmx
    fetches when the type's panel opens. It posts to activity_add, like the full page.

    Refused as activity_add refuses: a 403 for anyone who may not change the
    record, the reason for a read-only record.
    """
    record = get_regarding_for_change(request, kind, pk)
    type = _activity_type(type)
    if not can_add_to(request.user, record):  # the record is read-only
        messages.error(request, read_only_message(record))
        if request.headers.get("HX-Request") == "true":
            # htmx would swap a redirect's whole page into the panel: reload the
            # record page instead, which shows the reason and no add controls.
            return HttpResponse(headers={"HX-Refresh": "true"})
        return _back(request, record)
    form = ActivityForm(type=type, user=request.user, quick=True, auto_id=f"{type}_%s")
    # htmx focuses it once the fragment is in the page, so keyboard users land in the form.
    form.fields["subject"].widget.attrs["autofocus"] = True
    return render(
        request,
        "activities/_activity_add_form.html",
        {
            "form": form,
            "record": record,
            "record_kind": kind,
            "type": type,
            "type_label": Activity.Type(type).label,
        },
    )


def _activity(pk: int) -> Activity:
    return get_object_or_404(Activity.objects.select_related("owner"), pk=pk)


def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(pk)
    record = activity.regarding
    if not record.is_active or not activity.is_open:
        messages.error(
            request,
            read_only_message(record)
            or f"This activity is {activity.get_status_display().lower()} and read-only.",
        )
        return _back(request, record)
    if not can_change_activity(request.user, activity, record):
        raise PermissionDenied(
            "Only the activity's owner, the record's owner or a sales manager can change it."
        )
    form = ActivityForm(
        request.POST or None,
        instance=activity,
        type=activity.type,
        user=request.user,
        auto_id="activity_%s",
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_activity(activity=activity, user=request.user, **form.service_fields())
        except TimelineError as exc:
            return _refused(request, record, exc)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Activity saved.")
            return _back(request, record)
    return render(
        request,
        "activities/activity_form.html",
        {
            "form": form,
            "record": record,
            "type_label": activity.get_type_display(),
            "activity": activity,
        },
    )


def _activity_action(service, done: str):
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        activity = _activity(pk)
        record = activity.regarding
        try:
            service(activity=activity, user=request.user)
        except TimelineError as exc:
            return _refused(request, record, exc)
        messages.success(request, f"{activity.get_type_display()} “{activity.subject}” {done}.")
        return _back(request, record)

    return view


activity_complete = _activity_action(services.complete_activity, "marked complete")
activity_cancel = _activity_action(services.cancel_activity, "canceled")
activity_delete = _activity_action(services.delete_activity, "deleted")


def my_activities(request: HttpRequest) -> HttpResponse:
    """The signed-in user's activities: open ones by default, soonest due first."""
    activity_filter = ActivityFilter(
        request.GET, queryset=selectors.my_activities(user=request.user)
    )
    page = Paginator(activity_filter.qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "activities/activity_list.html",
        {"filter": activity_filter, "page": page, "next": request.get_full_path()},
    )


# --- Stakeholders --------------------------------------------------------------------------


def _stakeholder_record(kind: str, pk: int) -> Model:
    if kind not in ("lead", "opportunity"):
        raise Http404("Stakeholders belong to leads and opportunities.")
    return get_regarding(kind, pk)


@require_POST
def stakeholder_add(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    record = _stakeholder_record(kind, pk)
    ensure_can_change(request.user, record)
    form = StakeholderForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return _back(request, record, "stakeholders")
    contact = form.cleaned_data["contact"]
    try:
        connection = services.add_stakeholder(
            user=request.user, record=record, contact=contact, role=form.cleaned_data["role"]
        )
    except TimelineError as exc:
        return _refused(request, record, exc, "stakeholders")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{contact} added as {connection.get_role_display()}.")
    return _back(request, record, "stakeholders")


@require_POST
def stakeholder_new(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    record = _stakeholder_record(kind, pk)
    ensure_can_change(request.user, record)
    form = NewStakeholderForm(request.POST, auto_id="stakeholder_%s")
    duplicates = []
    if form.is_valid():
        try:
            connection = services.add_new_contact_as_stakeholder(
                user=request.user,
                record=record,
                role=form.cleaned_data["role"],
                ignore_duplicates=form.cleaned_data["ignore_duplicates"],
                **form.contact_fields(),
            )
        except TimelineError as exc:
            if isinstance(exc, DuplicateContacts):
                duplicates = exc.contacts
            else:
                return _refused(request, record, exc, "stakeholders")
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Contact {connection.contact} created and added as "
                f"{connection.get_role_display()}.",
            )
            return _back(request, record, "stakeholders")
    return render(
        request,
        "activities/stakeholder_new.html",
        {"form": form, "record": record, "duplicates": duplicates},
    )


@require_GET
def stakeholder_search(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Contacts matching `q` that are not yet stakeholders (an HTML fragment for htmx)."""
    record = _stakeholder_record(kind, pk)
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    existing = selectors.stakeholders(record).values("contact_id")
    return render(
        request,
        "activities/_contact_results.html",
        {
            "record": record,
            "record_kind": kind,
            "roles": Connection.Role.choices,
            "query": query,
            "contacts": selectors.search_contacts(query, exclude=existing) if query else [],
        },
    )


def _connection(pk: int) -> Connection:
    return get_object_or_404(Connection.objects.select_related("contact"), pk=pk)


@require_POST
def stakeholder_role(request: HttpRequest, pk: int) -> HttpResponse:
    connection = _connection(pk)
    record = connection.lead or connection.opportunity
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the stakeholder roles. Nothing was changed.")
        return _back(request, record, "stakeholders")
    try:
        changed = services.change_stakeholder_role(
            connection=connection, user=request.user, role=form.cleaned_data["role"]
        )
    except TimelineError as exc:
        return _refused(request, record, exc, "stakeholders")
    messages.success(request, f"{changed.contact} is now {changed.get_role_display()}.")
    return _back(request, record, "stakeholders")


@require_POST
def stakeholder_remove(request: HttpRequest, pk: int) -> HttpResponse:
    connection = _connection(pk)
    record = connection.lead or connection.opportunity
    try:
        services.remove_stakeholder(connection=connection, user=request.user)
    except TimelineError as exc:
        return _refused(request, record, exc, "stakeholders")
    messages.success(request, f"{connection.contact} removed from the stakeholders.")
    return _back(request, record, "stakeholders")
