"""Shared template pieces: the business process flow stage bar, sortable column
headers and read-only field display."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from crm import permissions, records, stagebar
from crm.filters import user_label

register = template.Library()


@register.inclusion_tag("includes/stage_bar.html", takes_context=True)
def stage_bar(context, record):
    """The business process flow's stage bar for a lead or an opportunity (see
    crm.stagebar); its steps and buttons are offered to a user who may change
    the record (the page's `can_change`) while it is active."""
    bar = stagebar.stage_bar(
        record, context["request"].user, can_change=context.get("can_change", False)
    )
    return {"bar": bar, "csrf_token": context.get("csrf_token"), "request": context["request"]}


@register.simple_tag(takes_context=True)
def sort_header(context, label: str, key: str, css: str = ""):
    """A sortable column's header cell: a link that sorts by `key` (toggling the
    direction, keeping the other filters), and the cell's aria-sort when the
    list is sorted by it (on the <th>, where screen readers read it)."""
    request = context["request"]
    current = context.get("sort") or request.GET.get("sort", "")
    params = request.GET.copy()
    params.pop("page", None)
    for cursor in ("after", "before", "cursor"):
        params.pop(cursor, None)  # a cursor belongs to the sort it was made in
    if current == key:
        params["sort"] = f"-{key}"
        icon, aria = "bi-caret-up-fill", "ascending"
    elif current == f"-{key}":
        params["sort"] = key
        icon, aria = "bi-caret-down-fill", "descending"
    else:
        params["sort"] = key
        icon, aria = "", ""
    return format_html(
        '<th scope="col"{}{}><a href="?{}">{}{}</a></th>',
        format_html(' class="{}"', css) if css else "",
        format_html(' aria-sort="{}"', aria) if aria else "",
        params.urlencode(),
        label,
        format_html(' <i class="bi {}" aria-hidden="true"></i>', icon) if icon else "",
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
def may_change(user, record) -> bool:
    """Whether `user` may change `record` (to offer its commands; the services decide)."""
    return permissions.can_change(user, record)


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
def is_manager(user) -> bool:
    """Whether the user is a sales manager (read with the permissions, no extra query)."""
    return permissions.is_manager(user)


@register.filter
def kind(record) -> str:
    """'Lead', 'Account', 'Contact', 'Opportunity': what a record page says it shows."""
    return str(record._meta.verbose_name).capitalize()
