"""The timeline and stakeholder panels of record pages, and small helpers for them.

A record page (lead, account, contact, opportunity) shows its timeline with
`{% timeline record %}` and, for leads and opportunities, its stakeholders with
`{% stakeholders record %}`: the pages' views need not know about this app.
"""

from __future__ import annotations

from django import template
from django.db.models import Model

from activities import selectors, services
from activities.forms import NewStakeholderForm, NoteForm
from activities.models import Activity, Connection, Note
from crm.permissions import can_add_to, can_change_activity, can_change_note
from crm.records import read_only_message

register = template.Library()


@register.inclusion_tag("activities/_timeline.html", takes_context=True)
def timeline(context, record: Model) -> dict:
    """A record's notes and activities, newest first, a page at a time
    (`?timeline_page=`), with what the user may add and change."""
    request = context["request"]
    user = request.user
    page = selectors.timeline(record, page=request.GET.get("timeline_page"))
    for item in page.items:
        if isinstance(item, Note):
            item.can_edit = can_change_note(user, item, record)
        else:
            item.can_edit = can_change_activity(user, item, record)
    can_add = can_add_to(user, record)
    return {
        "request": request,
        "record": record,
        "record_kind": services.regarding_kind(record),
        "timeline": page,
        "timeline_can_add": can_add,
        "timeline_read_only": read_only_message(record),
        # Each activity type's form is fetched when its panel opens (activity_add_form):
        # rendering all four with crispy-forms on every page cost half the page's time.
        "note_form": NoteForm(auto_id="note_%s") if can_add else None,
        "activity_types": Activity.Type.choices if can_add else (),
    }


@register.inclusion_tag("activities/_stakeholders.html", takes_context=True)
def stakeholders(context, record: Model) -> dict:
    """The contacts connected to a lead or an opportunity, with their roles."""
    request = context["request"]
    return {
        "request": request,
        "record": record,
        "record_kind": services.regarding_kind(record),
        "timeline_can_add": can_add_to(request.user, record),
        "stakeholders": selectors.stakeholders(record),
        "stakeholder_roles": Connection.Role.choices,
        "new_stakeholder_form": NewStakeholderForm(auto_id="stakeholder_%s"),
    }


ICONS = {
    "note": "bi-journal-text",
    "phone_call": "bi-telephone",
    "email": "bi-envelope",
    "task": "bi-check2-square",
    "appointment": "bi-calendar-event",
}


@register.filter
def timeline_icon(kind: str) -> str:
    """The bootstrap-icons class for a note or an activity type."""
    return ICONS.get(kind, "bi-circle")


@register.filter
def model_name(record) -> str:
    """'lead', 'account', 'contact' or 'opportunity'."""
    return record._meta.model_name


@register.filter
def verbose_name_plural(record) -> str:
    return str(record._meta.verbose_name_plural)
