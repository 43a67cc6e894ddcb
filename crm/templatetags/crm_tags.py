"""Shared template pieces: the business process flow stage bar, sortable column
headers and read-only field display."""

from __future__ import annotations

from django import template
from django.db import models
from django.utils.html import format_html

from crm import permissions, process, records
from crm.filters import user_label
from crm.models import ProcessStage

register = template.Library()


def _step_value(record, field_name: str):
    if not field_name or not hasattr(record, field_name):
        return None
    field = record._meta.get_field(field_name)
    value = getattr(record, field_name)
    if field.choices and value:
        return getattr(record, f"get_{field_name}_display")()
    if isinstance(field, models.BooleanField):
        return "Yes" if value else "No"
    return value


@register.inclusion_tag("includes/stage_bar.html", takes_context=True)
def stage_bar(context, record):
    """The stage bar of the default flow for a lead or an opportunity.

    A lead sits at its lead stage (Qualify). An opportunity shows the same bar
    with the lead stages done (linking back to its originating lead) and its
    own stage active.
    """
    stages = process.stage_bar_stages(context["request"].user)
    if not stages:
        return {"visible": False}
    flow = stages[0].process
    entity = (
        ProcessStage.Entity.LEAD
        if record._meta.model_name == "lead"
        else (ProcessStage.Entity.OPPORTUNITY)
    )
    own = [i for i, s in enumerate(stages) if s.entity == entity] or [0]
    # A lead sits at its stage (Qualify); once qualified with an opportunity its
    # process has moved on to the opportunity's stage.
    index = next((i for i, s in enumerate(stages) if s.pk == record.stage_id), own[0])
    originating = getattr(record, "originating_lead", None) if entity != "lead" else None
    items = [
        {
            "stage": stage,
            "done": i < index,
            "active": i == index,
            "link": originating.get_absolute_url()
            if originating and stage.entity == ProcessStage.Entity.LEAD
            else None,
        }
        for i, stage in enumerate(stages)
    ]
    # Steps shown are those of the record's own stage at or before the active one.
    step_stage = stages[max((i for i in own if i <= index), default=own[0])]
    steps = [
        {"step": step, "value": _step_value(record, step.field_name)}
        for step in step_stage.step_list
    ]
    is_lead = entity == ProcessStage.Entity.LEAD
    return {
        "visible": True,
        "flow": flow,
        "items": items,
        "active": stages[index],
        "step_stage": step_stage,
        "steps": steps,
        "record": record,
        "is_lead": is_lead,
        "can_move": context.get("can_move_stage", False),
        "is_first": index <= own[0],
        "is_last": index == len(stages) - 1,
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag(takes_context=True)
def sort_header(context, label: str, key: str):
    """A column header that sorts by `key`, toggling direction, keeping the other filters."""
    request = context["request"]
    current = request.GET.get("sort", "")
    params = request.GET.copy()
    params.pop("page", None)
    if current == key:
        params["sort"] = f"-{key}"
        icon = "bi-caret-up-fill"
        aria = "ascending"
    elif current == f"-{key}":
        params["sort"] = key
        icon = "bi-caret-down-fill"
        aria = "descending"
    else:
        params["sort"] = key
        icon = ""
        aria = "none"
    return format_html(
        '<a href="?{}" aria-sort="{}">{}{}</a>',
        params.urlencode(),
        aria,
        label,
        format_html(' <i class="bi {}"></i>', icon) if icon else "",
    )


@register.inclusion_tag("includes/field.html")
def field(label: str, value, link: str | None = None):
    """One read-only field: a label and its value as text ('—' when empty).

    `link` becomes a link only with a web, mail or phone scheme (or as a path
    of this site): a stored `javascript:` URL stays text.
    """
    empty = value in (None, "") or value is False
    if link and not str(link).strip().lower().startswith(SAFE_LINK_PREFIXES):
        link = None
    return {"label": label, "value": value, "empty": empty, "link": link}


SAFE_LINK_PREFIXES = ("http://", "https://", "mailto:", "tel:", "/")


@register.filter
def read_only_message(record) -> str:
    """crm.records.read_only_message: the one sentence a read-only record shows."""
    return records.read_only_message(record)


@register.filter
def user_name(user) -> str:
    """A user as pages show them: the full name, else the user name."""
    return user_label(user) if user else ""


@register.filter
def role_names(user) -> str:
    """The user's roles, ' · '-separated (read with the permissions, no extra query)."""
    return " · ".join(permissions.role_names(user))


@register.filter
def kind(record) -> str:
    """'Lead', 'Account', 'Contact', 'Opportunity': what a record page says it shows."""
    return str(record._meta.verbose_name).capitalize()
